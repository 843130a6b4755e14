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
// Leased-ahead deliveries should wait at most about this long for a free slot.
const PREFETCH_WINDOW_MS = 1_000;
const MAX_PREFETCH = 512;

/**
 * Schedules one function's deliveries: leases what is due, runs each attempt in the function's
 * sandbox pool up to the concurrency limit, and settles the outcome (ack + emits, retry at the
 * backoff, or dead-letter) in one durable write. Woken when new deliveries are committed; sleeps
 * until the next due time otherwise.
 *
 * To keep a fast function busy without one lease round-trip per attempt, it leases ahead: about
 * one second of work at the measured attempt duration (a slow function gets no more than it can
 * start at once), and lets the leased-ahead deliveries go again when it stops.
 */
export class FunctionDispatcher {
  #target: DispatchTarget;
  readonly #deps: DispatchDeps;
  readonly #buffer: LeasedDelivery[] = [];
  #inFlight = 0;
  #pumping = false;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  /** Moving average of attempt durations; undefined until the first attempt ends. */
  #avgMs: number | undefined;
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
    this.#drain();
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    if (this.#buffer.length >= this.#target.config.concurrency.max) return; // enough leased ahead
    void this.#pump();
  }

  /** Stops leasing, lets leased-ahead deliveries go, and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const unstarted = this.#buffer.splice(0);
    if (unstarted.length > 0) {
      await this.#deps.queue.release(unstarted).catch((err: unknown) => {
        this.#deps.log.warn({ err, fn: this.#target.name }, "could not release leases; they expire instead");
      });
    }
    await Promise.all([...this.#running]);
  }

  /** How many deliveries to hold leased: in flight plus about PREFETCH_WINDOW_MS of queued work. */
  #prefetchTarget(): number {
    const max = this.#target.config.concurrency.max;
    if (this.#avgMs === undefined) return max;
    const perSlot = Math.max(1, Math.floor(PREFETCH_WINDOW_MS / Math.max(this.#avgMs, 0.05)));
    return Math.min(MAX_PREFETCH, Math.max(max, max * perSlot));
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const target = this.#target;
        const want = this.#prefetchTarget() - this.#buffer.length - this.#inFlight;
        if (want <= 0 || this.#stopped) break;
        const leased = await this.#deps.queue.lease(
          target.name,
          want,
          target.config.timeoutMs + LEASE_MARGIN_MS,
        );
        this.#buffer.push(...leased);
        this.#drain();
        if (leased.length === want) this.#again = true;
      } while (this.#again && !this.#stopped);
      // Idle (nothing in flight or leased ahead): sleep until the next due retry or lease expiry.
      if (this.#buffer.length === 0 && this.#inFlight === 0) await this.#schedule();
    } catch (err) {
      this.#deps.log.error({ err, fn: this.#target.name }, "dispatcher failed to lease; retrying");
      this.#arm(Date.now() + 1_000);
    } finally {
      this.#pumping = false;
    }
    // A wake that arrived after the last lease (while scheduling) must not be lost.
    if (this.#again && !this.#stopped) this.wake();
  }

  /** Starts leased deliveries while there is a free slot. */
  #drain(): void {
    const max = this.#target.config.concurrency.max;
    while (this.#inFlight < max && this.#buffer.length > 0 && !this.#stopped) {
      this.#start(this.#target, this.#buffer.shift()!);
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

  /**
   * Runs one attempt. The concurrency slot is freed as soon as the function returns, not when its
   * outcome is committed: the settle waits for a group commit, and holding the slot meanwhile would
   * leave sandboxes idle for the commit window on every attempt.
   */
  #start(target: DispatchTarget, d: LeasedDelivery): void {
    this.#inFlight++;
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.#inFlight--;
      this.wake();
    };
    const run = this.#attempt(target, d, free)
      .catch((err: unknown) => {
        // The lease stays; it expires and the delivery is retried: nothing is lost.
        this.#deps.log.error({ err, fn: target.name, delivery: d.id }, "failed to settle an attempt");
      })
      .finally(() => {
        free();
        this.#running.delete(run);
      });
    this.#running.add(run);
  }

  async #attempt(target: DispatchTarget, d: LeasedDelivery, free: () => void): Promise<void> {
    const startedAt = Date.now();
    const invocationId = randomUUID();
    const timeoutMs = target.config.timeoutMs;
    const t0 = performance.now();
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
    const took = performance.now() - t0;
    free();
    this.#avgMs = this.#avgMs === undefined ? took : this.#avgMs * 0.9 + took * 0.1;
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
