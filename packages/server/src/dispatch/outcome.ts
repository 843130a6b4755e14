import type { CloudEvent, ResolvedFunctionConfig } from "eddy";
import { uuidv7 } from "eddy/internal";
import type { ErrorInfo, InvocationRecord, LeasedDelivery, Settlement } from "../backends/types.js";
import { MAX_RESULT_BYTES } from "../backends/types.js";
import type { AttemptResult, QueueSend } from "../runtime/protocol.js";
import { backoffMs } from "./retry-policy.js";

/**
 * Decides what an attempt means for its delivery: ack on success; on failure retry after the
 * backoff (or the function's RetryAfterError delay), unless the error is NonRetriable or the
 * attempts are used up, in which case dead-letter. Also builds the invocation record.
 */
export function decideOutcome(
  invocationId: string,
  delivery: LeasedDelivery,
  config: ResolvedFunctionConfig,
  fn: { name: string; version: string },
  result: AttemptResult,
  startedAt: number,
  now: number,
): { settlement: Settlement; invocation: InvocationRecord } {
  let settlement: Settlement;
  if (result.ok) settlement = { kind: "ack" };
  else {
    const { nonRetriable, retryAfterMs, ...error } = result.error;
    if (nonRetriable || delivery.attempt >= config.retries.maxAttempts) settlement = { kind: "dead", error };
    else {
      const delay = retryAfterMs ?? backoffMs(config.retries.backoff, delivery.attempt);
      settlement = { kind: "retry", dueAt: now + delay, error };
    }
  }
  const invocation: InvocationRecord = {
    id: invocationId,
    fn: fn.name,
    version: fn.version,
    deliveryId: delivery.id,
    eventId: delivery.event.id,
    eventSource: delivery.event.source,
    eventType: delivery.event.type,
    attempt: delivery.attempt,
    status: result.ok ? "succeeded" : "failed",
    outcome: settlement.kind,
    startedAt,
    durationMs: Math.round(result.durationMs * 1000) / 1000,
    logs: result.logs,
    memoryMb: config.memoryMb,
    billedMs: Math.max(1, Math.ceil(result.durationMs)),
  };
  if (settlement.kind !== "ack") invocation.error = settlement.error;
  if (result.logsTruncated) invocation.logsTruncated = true;
  if (result.ok && result.result !== undefined) Object.assign(invocation, boundedResult(result.result));
  return { settlement, invocation };
}

/**
 * A handler's result as a record keeps it: left out, with `resultTruncated`, when its JSON is over
 * {@link MAX_RESULT_BYTES} (records are listed and shipped whole; results are not a blob store).
 */
export function boundedResult(value: unknown): Pick<InvocationRecord, "result" | "resultTruncated"> {
  const json = JSON.stringify(value);
  // Characters, not bytes, first: cheap, and only a near miss needs the exact count.
  if (json.length * 3 <= MAX_RESULT_BYTES || Buffer.byteLength(json) <= MAX_RESULT_BYTES) {
    return { result: value };
  }
  return { resultTruncated: true };
}

/** Most event types (and queues) a record lists as published by its attempt. */
export const MAX_RECORDED_EMISSIONS = 32;

/**
 * What a succeeded attempt published, as its record keeps it for the choreography map: each event
 * type and each queue once, in first-emitted order, at most {@link MAX_RECORDED_EMISSIONS} of each.
 */
export function emissions(
  emits: CloudEvent[],
  sends: QueueSend[],
): Pick<InvocationRecord, "emits" | "sends"> {
  const distinct = (names: string[]) => [...new Set(names)].slice(0, MAX_RECORDED_EMISSIONS);
  const out: Pick<InvocationRecord, "emits" | "sends"> = {};
  if (emits.length > 0) out.emits = distinct(emits.map((e) => e.type));
  if (sends.length > 0) out.sends = distinct(sends.map((s) => s.queue));
  return out;
}

/** The record of an attempt that did not run: a guard settled it (rate limit, idempotency, age). */
export function skippedRecord(
  target: { name: string; version: string },
  d: LeasedDelivery,
  reason: string,
  outcome: InvocationRecord["outcome"],
  startedAt: number,
  error?: ErrorInfo,
): InvocationRecord {
  const rec: InvocationRecord = {
    id: uuidv7(),
    fn: target.name,
    version: target.version,
    deliveryId: d.id,
    eventId: d.event.id,
    eventSource: d.event.source,
    eventType: d.event.type,
    attempt: d.attempt,
    status: "skipped",
    skipReason: reason,
    outcome,
    startedAt,
    durationMs: 0,
    logs: [],
  };
  if (error) rec.error = error;
  return rec;
}
