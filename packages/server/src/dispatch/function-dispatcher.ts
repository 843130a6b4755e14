import { randomUUID } from "node:crypto";
import type { CloudEvent, ResolvedFunctionConfig } from "eddy";
import type { AppendEntry, AppendResult, DeliveryQueue, LeasedDelivery } from "../backends/types.js";
import type { Logger } from "../observability/logger.js";
import type { AttemptResult, InvokeRequest } from "../runtime/protocol.js";
import { decideOutcome } from "./outcome.js";

/** The running version of a function, as the dispatcher needs it. */
export interface DispatchTarget {
  name: string;
  version: string;
  config: ResolvedFunctionConfig;
  invoke(req: InvokeRequest, timeoutMs: number): Promise<AttemptResult>;
}

/** What the dispatcher needs from the rest of the engine. */
export interface DispatchDeps {
  queue: DeliveryQueue;
  dedupWindowMs: number;
  /** Validates and routes emitted events (throws on an invalid one). */
  prepareEmits(events: CloudEvent[]): AppendEntry[];
  /** Called after emitted events are durable, to wake their functions. */
  emitted(entries: AppendEntry[], results: AppendResult[]): void;
  log: Logger;
}

// A lease outlives the attempt's timeout by this much, so a slow settle is not mistaken for a crash.
const LEASE_MARGIN_MS = 10_000;
// Even without a wake-up, look for due work this often (a missed notification costs at most this).
const SAFETY_POLL_MS = 5_000;

/**
 * Schedules one function's deliveries: leases what is due up to the concurrency limit, runs each
 * attempt in the function's sandbox pool, and settles the outcome (ack + emits, retry at the
 * backoff, or dead-letter) in one durable write. Woken when new deliveries are committed; sleeps
 * until the next due time otherwise.
 */
export class FunctionDispatcher {
  #target: DispatchTarget;
  readonly #deps: DispatchDeps;
  #inFlight = 0;
  #pumping = false;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  readonly #running = new Set<Promise<void>>();

  constructor(target: DispatchTarget, deps: DispatchDeps) {
    this.#target = target;
    this.#deps = deps;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Swaps in a new version: attempts in flight finish on the old one, new ones use this. */
  update(target: DispatchTarget): void {
    this.#target = target;
    this.wake();
  }

  /** Looks for due work now. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    void this.#pump();
  }

  /** Stops leasing; resolves when the attempts in flight have settled. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await Promise.all([...this.#running]);
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const target = this.#target;
        const free = target.config.concurrency.max - this.#inFlight;
        if (free <= 0 || this.#stopped) break;
        const leased = await this.#deps.queue.lease(
          target.name,
          free,
          target.config.timeoutMs + LEASE_MARGIN_MS,
        );
        for (const d of leased) this.#start(target, d);
        if (leased.length === free) this.#again = true;
      } while (this.#again && !this.#stopped);
      await this.#schedule();
    } catch (err) {
      this.#deps.log.error({ err, fn: this.#target.name }, "dispatcher failed to lease; retrying");
      this.#arm(Date.now() + 1_000);
    } finally {
      this.#pumping = false;
    }
  }

  /** Arms a timer for the next due delivery (a retry or an expiring lease). */
  async #schedule(): Promise<void> {
    if (this.#stopped) return;
    const next = await this.#deps.queue.nextDueAt(this.#target.name);
    this.#arm(Math.min(next ?? Infinity, Date.now() + SAFETY_POLL_MS));
  }

  #arm(at: number): void {
    if (this.#timer && this.#timerAt <= at && this.#timerAt > Date.now()) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => ((this.#timerAt = Infinity), this.wake()), Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  #start(target: DispatchTarget, d: LeasedDelivery): void {
    this.#inFlight++;
    const run = this.#attempt(target, d)
      .catch((err: unknown) => {
        // The lease stays; it expires and the delivery is retried: nothing is lost.
        this.#deps.log.error({ err, fn: target.name, delivery: d.id }, "failed to settle an attempt");
      })
      .finally(() => {
        this.#inFlight--;
        this.#running.delete(run);
        this.wake();
      });
    this.#running.add(run);
  }

  async #attempt(target: DispatchTarget, d: LeasedDelivery): Promise<void> {
    const startedAt = Date.now();
    const invocationId = randomUUID();
    const timeoutMs = target.config.timeoutMs;
    let result = await target.invoke(
      {
        event: d.event,
        info: {
          id: invocationId,
          attempt: d.attempt,
          functionName: target.name,
          version: target.version,
          deadline: startedAt + timeoutMs,
        },
        emitSource: `eddy://functions/${target.name}`,
        emitIdPrefix: `${d.eventSeq}.${target.name}`,
      },
      timeoutMs,
    );
    let emit: AppendEntry[] = [];
    if (result.ok && result.emits.length > 0) {
      try {
        emit = this.#deps.prepareEmits(result.emits);
      } catch (err) {
        result = {
          ...result,
          ok: false,
          error: { name: "InvalidEmitError", message: (err as Error).message },
        };
      }
    }
    const { settlement, invocation } = decideOutcome(
      invocationId,
      d,
      target.config,
      target.version,
      result,
      startedAt,
    );
    const settled = await this.#deps.queue.settle(d, settlement, {
      invocation,
      emit,
      dedupWindowMs: this.#deps.dedupWindowMs,
    });
    if (settled.emitted.length > 0) this.#deps.emitted(emit, settled.emitted);
    if (settlement.kind === "retry") this.#arm(settlement.dueAt);
    if (!settled.settled) {
      this.#deps.log.warn(
        { fn: target.name, delivery: d.id },
        "lease lost before settle; the delivery runs again",
      );
    }
  }
}
