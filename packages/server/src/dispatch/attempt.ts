import type { CloudEvent } from "eddy";
import { uuidv7 } from "eddy/internal";
import type {
  AppendEntry,
  AppendResult,
  LeaseCore,
  InvocationRecord,
  KeyValue,
  KvWrite,
  LeasedDelivery,
  Settlement,
  TraceIds,
} from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import { functionSource } from "../events/sources.js";
import type { Logger } from "../observability/logger.js";
import type { Observer } from "../observability/observer.js";
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  parseTraceparent,
} from "../observability/trace-context.js";
import type { AttemptResult, InvokeRequest, QueueSend } from "../runtime/protocol.js";
import type { DeliveryPlan } from "./delivery-plan.js";
import { receiptHandle } from "./delivery-plan.js";
import { evaluateKey } from "./expressions.js";
import type { RateLimit, Throttle } from "./flow-control.js";
import { claimIdempotencyKey } from "./idempotency.js";
import type { Claim } from "./idempotency.js";
import { decideOutcome, emissions, skippedRecord } from "./outcome.js";
import { BatchItemFailedError, errorInfo, EventTooOldError, InvalidEmitError } from "../errors/attempt.js";
import { pinWrites } from "./pins.js";
import { PinnedVersions } from "./versions.js";

/** The running version of a function, as the dispatcher needs it. */
export interface DispatchTarget {
  name: string;
  version: string;
  /** The source file of the version (with it, names its bundle: see pins.ts). */
  file: string;
  plan: DeliveryPlan;
  throttle?: Throttle;
  rateLimit?: RateLimit;
  invoke(req: InvokeRequest, timeoutMs: number): Promise<AttemptResult>;
  /** What a trigger kind adds to settles (async gateway requests keep their status). */
  hooks?: SettleHooks;
}

/** Additions to the settle of an attempt, for one kind of delivery. */
export interface SettleHooks {
  /** Key-value writes made in the same durable write as the settle. */
  kv(delivery: LeasedDelivery, settlement: Settlement, invocation: InvocationRecord): KvWrite[];
  /** Called once the settle committed. */
  settled(delivery: LeasedDelivery, settlement: Settlement, invocation: InvocationRecord): void;
}

/** What running attempts needs from the rest of the engine. */
export interface DispatchDeps {
  queue: LeaseCore;
  kv: KeyValue;
  dedupWindowMs: number;
  /** Validates and routes emitted events and queue sends (throws on an invalid one). */
  prepareEmits(events: CloudEvent[], sends: QueueSend[], traceparent: string): Promise<AppendEntry[]>;
  /** Called after emitted events are durable, to wake their consumers and apply cancelOn. */
  emitted(entries: AppendEntry[], results: AppendResult[]): Promise<void>;
  log: Logger;
  observer?: Observer;
  /** Versions that pinned deliveries run on after a deploy replaced them. Without: the running one. */
  versions?: PinnedVersions;
  /** Due times, lease ends, backoff, flow-control windows and record times come from it. */
  clock: Clock;
}

/** What the scheduler learns from an attempt. */
export interface AttemptReport {
  /** How long the function ran (undefined if it did not run). */
  ranMs?: number;
  /** A delivery becomes due again at this time (retry, throttle, busy key). */
  dueAgainAt?: number;
}

/**
 * Runs a leased unit on the version each of its deliveries is pinned to (see pins.ts): a retry of a
 * delivery whose earlier attempt ran on a version since replaced runs that version again; the
 * others, `target`. A batch that mixes versions runs as one attempt per version, one after another.
 */
export async function runAttempt(
  target: DispatchTarget,
  unit: LeasedDelivery[],
  deps: DispatchDeps,
  free: () => void,
): Promise<AttemptReport> {
  if (!deps.versions || !PinnedVersions.concerns(unit)) return runOn(target, unit, deps, free);
  const groups = await deps.versions.split(target, unit);
  const report: AttemptReport = {};
  for (const [i, g] of groups.entries()) {
    try {
      const r = await runOn(g.target, g.unit, deps, i === groups.length - 1 ? free : () => undefined);
      if (r.ranMs !== undefined) report.ranMs = (report.ranMs ?? 0) + r.ranMs;
      if (r.dueAgainAt !== undefined)
        report.dueAgainAt = Math.min(report.dueAgainAt ?? Infinity, r.dueAgainAt);
    } finally {
      g.done();
    }
  }
  return report;
}

/**
 * One attempt of one delivery, or of a batch, on one version: the guards that may settle it without running
 * (maxEventAge, rate limit, throttle, idempotency), the run in the sandbox, and the settle of its
 * outcome with the invocation record, emits and idempotency record in one durable write.
 * `free` is called as soon as the function stops running.
 */
async function runOn(
  target: DispatchTarget,
  batch: LeasedDelivery[],
  deps: DispatchDeps,
  free: () => void,
): Promise<AttemptReport> {
  const config = target.plan.config;
  const now = deps.clock.now();
  const first = batch[0]!;
  const live: LeasedDelivery[] = [];
  for (const d of batch) {
    if (config.retries.maxEventAgeMs !== undefined && now - d.createdAt > config.retries.maxEventAgeMs) {
      const error = errorInfo(new EventTooOldError(now - d.createdAt, config.retries.maxEventAgeMs));
      const rec = skippedRecord(target, d, "maxEventAge", "dead", now, error);
      await settleUnrun(target, d, { kind: "dead", error }, rec, deps);
    } else live.push(d);
  }
  if (live.length === 0) return {};

  let claim: Extract<Claim, { kind: "run" }> | undefined;
  if (batch.length === 1) {
    const guard = await guards(target, first, deps);
    if (guard.kind === "settled") {
      free();
      return guard.report;
    }
    claim = guard.claim;
  }

  const startedAt = deps.clock.now();
  const invocationId = uuidv7();
  const timeoutMs = config.timeoutMs;
  const t0 = performance.now();
  // The attempt's span: a child of the triggering event's span, the parent of what it emits.
  const parent = live[0]!.trace ?? parseTraceparent(live[0]!.event.traceparent);
  const trace: TraceIds = { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId() };
  if (parent) trace.parentSpanId = parent.spanId;
  const traceparent = formatTraceparent(trace.traceId, trace.spanId);
  const req: InvokeRequest = {
    traceparent,
    event: live[0]!.event,
    info: {
      id: invocationId,
      attempt: Math.max(...live.map((d) => d.attempt)),
      functionName: target.name,
      version: target.version,
      // The sandbox's own time and its timeout are real, whatever the server's clock.
      deadline: Date.now() + timeoutMs,
    },
    emitSource: functionSource(target.name),
    emitIdPrefix: `${live[0]!.eventSeq}.${target.name}`,
    eventSeq: live[0]!.eventSeq,
  };
  if (config.batch) req.batch = live.map((d) => d.event);
  // A Lambda-style queue consumer gets SQS's records, which say more than the event.
  if (config.compat === "aws" && config.triggers[0]?.kind === "queue") {
    req.messages = live.map((d) => ({
      receiveCount: d.attempt,
      sentAt: d.createdAt,
      receiptHandle: receiptHandle(d),
      sequence: d.eventSeq,
    }));
  }
  let result = await target.invoke(req, timeoutMs);
  const ranMs = performance.now() - t0;
  free();

  let emit: AppendEntry[] = [];
  if (result.ok && (result.emits.length > 0 || result.sends.length > 0)) {
    try {
      emit = await deps.prepareEmits(result.emits, result.sends, traceparent);
    } catch (err) {
      result = { ...result, ok: false, error: errorInfo(new InvalidEmitError((err as Error).message)) };
    }
  }
  const failed = new Set(result.ok ? (result.failedItems ?? []) : []);
  let dueAgainAt: number | undefined;
  // A batch's items settle at once (one group commit, one joined write), not one after another.
  const settleItem = async (d: LeasedDelivery, i: number): Promise<void> => {
    const itemResult: AttemptResult =
      result.ok && failed.has(d.event.id)
        ? {
            ...result,
            ok: false,
            error: errorInfo(new BatchItemFailedError()),
          }
        : result;
    const { settlement, invocation } = decideOutcome(
      invocationId,
      d,
      config,
      target,
      itemResult,
      startedAt,
      deps.clock.now(),
    );
    if (deps.observer?.enabled !== false) invocation.trace = trace;
    if (i === 0 && settlement.kind === "ack" && result.ok)
      Object.assign(invocation, emissions(result.emits, result.sends));
    if (result.coldStartMs !== undefined) invocation.coldStart = true;
    const kv: KvWrite[] = [];
    if (claim) kv.push(settlement.kind === "ack" ? claim.done : claim.release);
    if (target.hooks) kv.push(...target.hooks.kv(d, settlement, invocation));
    kv.push(...pinWrites(target, d, settlement));
    // One record per attempt: a batch's goes with its first delivery and lists every item.
    if (config.batch && i === 0) {
      invocation.batch = live.map((x) => ({
        deliveryId: x.id,
        eventId: x.event.id,
        ...(failed.has(x.event.id) ? { failed: true } : {}),
      }));
    }
    const settled = await deps.queue.settle(d, settlement, {
      ...(i === 0 ? { invocation } : {}),
      emit: i === 0 && settlement.kind === "ack" ? emit : [],
      dedupWindowMs: deps.dedupWindowMs,
      kv,
    });
    if (i === 0) {
      deps.observer?.attempt(invocation, {
        ...(d.attempt === 1 && d.redrives === 0 ? { queueWaitMs: Math.max(0, startedAt - d.createdAt) } : {}),
        ...(result.coldStartMs !== undefined ? { coldStartMs: result.coldStartMs } : {}),
        ...(settlement.kind === "retry" ? { retryAt: settlement.dueAt } : {}),
      });
    }
    if (settled.settled) target.hooks?.settled(d, settlement, invocation);
    if (settled.emitted.length > 0) await deps.emitted(emit, settled.emitted);
    if (settlement.kind === "retry") dueAgainAt = Math.min(dueAgainAt ?? Infinity, settlement.dueAt);
    if (!settled.settled) {
      deps.log.warn({ fn: target.name, delivery: d.id }, "lease lost before settle; the delivery runs again");
    }
  };
  await Promise.all(live.map(settleItem));
  return dueAgainAt !== undefined ? { ranMs, dueAgainAt } : { ranMs };
}

type GuardResult =
  { kind: "settled"; report: AttemptReport } | { kind: "run"; claim?: Extract<Claim, { kind: "run" }> };

/** Rate limit, throttle and idempotency, in that order (a rate-limited event never takes a key). */
async function guards(target: DispatchTarget, d: LeasedDelivery, deps: DispatchDeps): Promise<GuardResult> {
  const plan = target.plan;
  const config = plan.config;
  if (target.rateLimit) {
    const key = (plan.rateLimitKey && evaluateKey(plan.rateLimitKey, d.event)) ?? "";
    if (!target.rateLimit.admit(key, deps.clock.now())) {
      const reason = `rateLimit (${config.rateLimit!.limit} per ${config.rateLimit!.periodMs} ms)`;
      await skip(target, d, deps, reason);
      return { kind: "settled", report: {} };
    }
  }
  if (target.throttle) {
    const key = (plan.throttleKey && evaluateKey(plan.throttleKey, d.event)) ?? "";
    const waitMs = target.throttle.take(key, deps.clock.now());
    if (waitMs > 0) {
      const at = deps.clock.now() + waitMs;
      await deps.queue.release([d], at);
      return { kind: "settled", report: { dueAgainAt: at } };
    }
  }
  if (plan.idempotencyKey && config.idempotency) {
    const key = evaluateKey(plan.idempotencyKey, d.event);
    if (key !== undefined) {
      const claim = await claimIdempotencyKey(
        deps.kv,
        target.name,
        key,
        d.id,
        d.leaseUntil,
        config.idempotency.windowMs,
        deps.clock,
      );
      if (claim.kind === "done") {
        await skip(target, d, deps, `idempotencyKey ${JSON.stringify(key)} already succeeded`);
        return { kind: "settled", report: {} };
      }
      if (claim.kind === "busy") {
        await deps.queue.release([d], claim.retryAt);
        return { kind: "settled", report: { dueAgainAt: claim.retryAt } };
      }
      return { kind: "run", claim };
    }
  }
  return { kind: "run" };
}

/** Acks a delivery that a guard decided not to run, with a "skipped" record. */
async function skip(
  target: DispatchTarget,
  d: LeasedDelivery,
  deps: DispatchDeps,
  reason: string,
): Promise<void> {
  await settleUnrun(
    target,
    d,
    { kind: "ack" },
    skippedRecord(target, d, reason, "ack", deps.clock.now()),
    deps,
  );
}

/** Settles a delivery that did not run, with its record and what the target's hooks add. */
async function settleUnrun(
  target: DispatchTarget,
  d: LeasedDelivery,
  settlement: Settlement,
  rec: InvocationRecord,
  deps: DispatchDeps,
): Promise<void> {
  const kv = [...(target.hooks?.kv(d, settlement, rec) ?? []), ...pinWrites(target, d, settlement)];
  const r = await deps.queue.settle(d, settlement, {
    invocation: rec,
    dedupWindowMs: deps.dedupWindowMs,
    ...(kv.length > 0 ? { kv } : {}),
  });
  if (r.settled) target.hooks?.settled(d, settlement, rec);
  deps.observer?.attempt(rec);
}
