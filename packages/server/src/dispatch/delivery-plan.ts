import type { CloudEvent, ResolvedFunctionConfig } from "eddy";
import type { NewDelivery } from "../backends/types.js";
import type { EventExpression } from "./expressions.js";
import { compileExpression, evaluateKey } from "./expressions.js";
import { InvalidFunctionConfigError } from "eddy";

/**
 * How a function's deliveries are made and leased, compiled once per deployed version from its
 * configuration: the consumer key, the flow-control keys computed at routing time, and the lease
 * options the dispatcher uses.
 */
export class DeliveryPlan {
  readonly fn: string;
  /** Where its deliveries live: the function's name, or what its trigger kind says (`queue:<name>`). */
  readonly consumer: string;
  /** Leased in order per group (a FIFO queue's consumer). */
  readonly #ordered: boolean;
  readonly config: ResolvedFunctionConfig;
  readonly #groupKey: EventExpression | undefined;
  readonly #priority: EventExpression | undefined;
  readonly #batchKey: EventExpression | undefined;
  readonly #debounceKey: EventExpression | undefined;
  /** Path of the triggering event's value that cancelOn events are matched against. */
  readonly cancelMatch: string | undefined;
  readonly idempotencyKey: EventExpression | undefined;
  readonly throttleKey: EventExpression | undefined;
  readonly rateLimitKey: EventExpression | undefined;

  /**
   * Compiles the plan; throws an error naming the option if an expression is invalid.
   *
   * @param consumer where the deliveries live, as the function's trigger kind declares it
   *   (`triggers/`); default the function's name.
   */
  constructor(
    fn: string,
    config: ResolvedFunctionConfig,
    consumer: { name: string; ordered?: boolean } = { name: fn },
  ) {
    this.fn = fn;
    this.config = config;
    this.consumer = consumer.name;
    this.#ordered = consumer.ordered === true;
    const c = config.concurrency;
    this.#groupKey = c.key !== undefined ? compileExpression(c.key, "concurrency.key") : undefined;
    this.#priority = config.priority ? compileExpression(config.priority.run, "priority.run") : undefined;
    this.#batchKey =
      config.batch?.key !== undefined ? compileExpression(config.batch.key, "batch.key") : undefined;
    this.#debounceKey =
      config.debounce?.key !== undefined ? compileExpression(config.debounce.key, "debounce.key") : undefined;
    this.idempotencyKey = config.idempotency
      ? compileExpression(config.idempotency.key, "idempotencyKey")
      : undefined;
    this.throttleKey =
      config.throttle?.key !== undefined ? compileExpression(config.throttle.key, "throttle.key") : undefined;
    this.rateLimitKey =
      config.rateLimit?.key !== undefined
        ? compileExpression(config.rateLimit.key, "rateLimit.key")
        : undefined;
    const matches = new Set(config.cancelOn.map((c) => c.match));
    if (matches.size > 1)
      throw new InvalidFunctionConfigError("cancelOn", "every entry must use the same match path");
    this.cancelMatch = config.cancelOn[0]?.match;
  }

  /** The delivery of `event` to this function. */
  delivery(event: CloudEvent): NewDelivery {
    const d: NewDelivery = { fn: this.consumer };
    if (this.#groupKey) {
      const k = evaluateKey(this.#groupKey, event);
      if (k !== undefined) d.groupKey = k;
    }
    if (this.#priority) {
      const p = Number(safe(this.#priority, event));
      if (Number.isFinite(p)) d.priority = Math.trunc(p);
    }
    if (this.config.batch) d.batchKey = (this.#batchKey && evaluateKey(this.#batchKey, event)) ?? "";
    if (this.config.debounce) {
      const { periodMs, maxWaitMs } = this.config.debounce;
      const key = (this.#debounceKey && evaluateKey(this.#debounceKey, event)) ?? "";
      d.debounce = { key, periodMs, maxWaitMs };
    }
    if (this.cancelMatch !== undefined) {
      const v = valueAt(event, this.cancelMatch);
      if (v !== undefined) d.cancelKey = JSON.stringify(v);
    }
    return d;
  }

  /** Lease options for this function's deliveries. */
  leaseOptions(): { perGroup?: number; ordered?: boolean; byPriority?: boolean } {
    const o: { perGroup?: number; ordered?: boolean; byPriority?: boolean } = {};
    if (this.config.concurrency.perKey !== undefined) o.perGroup = this.config.concurrency.perKey;
    if (this.#ordered) o.ordered = true;
    if (this.#priority) o.byPriority = true;
    return o;
  }
}

/** The consumer key of a queue's deliveries. */
export function queueConsumer(queue: string): string {
  return `queue:${queue}`;
}

/** The receipt handle of a leased queue message: its delivery and the lease's token. */
export function receiptHandle(d: { id: string; leaseToken: string }): string {
  return `${d.id}~${d.leaseToken}`;
}

/** The value at a dotted path of an event ("data.orderId"), or undefined. */
export function valueAt(event: unknown, path: string): unknown {
  let v: unknown = event;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function safe(expr: EventExpression, event: unknown): unknown {
  try {
    return expr(event);
  } catch {
    return undefined;
  }
}
