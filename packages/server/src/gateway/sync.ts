import type { CloudEvent } from "eddy";
import type { InvocationRecord, TraceIds } from "../backends/types.js";
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
} from "../observability/trace-context.js";
import type { DeployedFunction, Engine } from "../engine.js";
import type { AttemptResult, HttpRequestData, HttpResponseData, InvokeRequest } from "../runtime/protocol.js";
import { functionSource, routeSource } from "../events/sources.js";
import { HTTP_EVENT_TYPE } from "./async-requests.js";
import {
  errorInfo,
  FunctionTimeoutError,
  InvalidEmitError,
  ResponseTooLargeError,
} from "../errors/attempt.js";
import { GatewayTimeoutError } from "../errors/http.js";

/** How a synchronous request to a function ended. */
export type SyncOutcome =
  | { kind: "response"; response: HttpResponseData }
  | { kind: "timeout" }
  | { kind: "failed"; error: { name: string; message: string } };

/**
 * Runs a synchronous request in the function's sandbox pool: one attempt, no retry (the caller
 * is waiting and decides). The caller gets 504 after `timeoutMs`, also while waiting for a free
 * sandbox; the attempt itself is stopped at the same time. What it emitted or sent is published
 * (durably) before the response goes out, and only if it succeeded. A failed request's record
 * is written in the background (the response does not wait for it); a successful one's only with
 * `record`, since a durable write per request would cost more than the request: every request is
 * counted in the metrics and metered (the engine's `meter`) either way.
 */
export async function invokeSync(
  engine: Engine,
  fn: DeployedFunction,
  http: HttpRequestData,
  options: {
    timeoutMs: number;
    /** Store a record of a successful request too. */
    record: boolean;
    /** Larger responses fail the request (502): they would be held whole in memory twice. */
    maxResponseBytes: number;
    /** The caller's W3C traceparent header. */
    traceparent?: unknown;
  },
): Promise<SyncOutcome> {
  const { timeoutMs, record, traceparent } = options;
  const startedAt = engine.clock.now();
  const t0 = performance.now(); // durations and the sandbox's deadline are real time, whatever the clock
  // The request's span: a child of the caller's (W3C traceparent), the parent of what it emits.
  let trace: TraceIds | undefined;
  let flags: string | undefined;
  if (engine.observer.enabled) {
    const parent = parseTraceparent(traceparent);
    flags = parent?.flags;
    trace = {
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      ...(parent ? { parentSpanId: parent.spanId } : {}),
    };
  }
  const id = http.requestId;
  const event: CloudEvent = { specversion: "1.0", id, source: routeSource(fn.name), type: HTTP_EVENT_TYPE };
  const req: InvokeRequest = {
    event,
    info: { id, attempt: 1, functionName: fn.name, version: fn.version, deadline: Date.now() + timeoutMs },
    emitSource: functionSource(fn.name),
    emitIdPrefix: `${id}.${fn.name}`,
    http,
  };
  if (trace) req.traceparent = formatTraceparent(trace.traceId, trace.spanId, flags);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  const result = await Promise.race([fn.pool.invoke(req, timeoutMs), late]);
  clearTimeout(timer);
  let outcome: SyncOutcome;
  let final: AttemptResult | undefined = result;
  if (result === undefined) outcome = { kind: "timeout" };
  else if (!result.ok) {
    outcome =
      result.error.code === FunctionTimeoutError.code
        ? { kind: "timeout" }
        : { kind: "failed", error: result.error };
  } else {
    const response = result.result as HttpResponseData;
    outcome = { kind: "response", response };
    const size = responseBytes(response);
    if (size > options.maxResponseBytes) {
      const error = errorInfo(new ResponseTooLargeError(size, options.maxResponseBytes));
      outcome = { kind: "failed", error };
      final = { ...result, ok: false, error };
    } else if (result.emits.length > 0 || result.sends.length > 0) {
      try {
        await engine.publish(result.emits, result.sends, req.traceparent);
      } catch (err) {
        const error = errorInfo(new InvalidEmitError((err as Error).message));
        outcome = { kind: "failed", error };
        final = { ...result, ok: false, error };
      }
    }
  }
  // Every request is metered and counted, stored or not: a record's usage is read from it, the
  // others' is added up by the engine's meter.
  const rec = syncRecord(fn, http, startedAt, final?.durationMs ?? performance.now() - t0, final, outcome);
  if (trace) rec.trace = trace;
  const detail = final?.coldStartMs !== undefined ? { coldStartMs: final.coldStartMs } : {};
  if (record || outcome.kind !== "response") {
    engine.backend.records
      .insert([rec])
      .then(() => engine.observer.attempt(rec, detail))
      .catch((err: unknown) =>
        engine.log.warn({ err, fn: fn.name }, "could not store a gateway request's record"),
      );
  } else {
    engine.meter.add(rec);
    engine.observer.attempt(rec, detail);
  }
  return outcome;
}

function syncRecord(
  fn: DeployedFunction,
  http: HttpRequestData,
  startedAt: number,
  durationMs: number,
  result: AttemptResult | undefined,
  outcome: SyncOutcome,
): InvocationRecord {
  const rec: InvocationRecord = {
    id: http.requestId,
    fn: fn.name,
    version: fn.version,
    deliveryId: http.requestId,
    eventId: http.requestId,
    eventSource: routeSource(fn.name),
    eventType: HTTP_EVENT_TYPE,
    attempt: 1,
    status: outcome.kind === "response" ? "succeeded" : "failed",
    // The caller got the answer: nothing is retried or parked.
    outcome: "ack",
    startedAt,
    durationMs: Math.round(durationMs * 1000) / 1000,
    logs: result?.logs ?? [],
    memoryMb: fn.config.memoryMb,
    billedMs: Math.max(1, Math.ceil(durationMs)),
  };
  if (result?.logsTruncated) rec.logsTruncated = true;
  if (result?.coldStartMs !== undefined) rec.coldStart = true;
  if (outcome.kind === "response") rec.result = { status: outcome.response.status };
  else if (outcome.kind === "timeout") {
    rec.error = errorInfo(new GatewayTimeoutError(`no response within ${durationMs} ms`));
  } else rec.error = outcome.error;
  return rec;
}

/** Bytes of a response body (base64 decodes to three quarters of its length). */
function responseBytes(r: HttpResponseData): number {
  if (r.body === undefined) return 0;
  return r.bodyEncoding === "base64" ? Math.floor((r.body.length * 3) / 4) : Buffer.byteLength(r.body);
}
