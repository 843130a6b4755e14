import type { LeasedDelivery } from "../backends/types.js";
import type { ClockTimer } from "../clock/clock.js";
import type { AttemptReport, DispatchDeps, DispatchTarget } from "./attempt.js";
import { runAttempt } from "./attempt.js";

export type { DispatchDeps, DispatchTarget } from "./attempt.js";

// A lease outlives the attempt's timeout by this much, so a slow settle is not mistaken for a crash.
const LEASE_MARGIN_MS = 10_000;
// Even without a wake-up, look for due work this often (a missed notification costs at most this).
const SAFETY_POLL_MS = 5_000;
// Leased-ahead deliveries should wait at most about this long for a free slot.
const PREFETCH_WINDOW_MS = 1_000;
const MAX_PREFETCH = 512;

/** Checks leased deliveries before they run (queues: maxReceiveCount); returns the ones to run. */
export type LeaseFilter = (consumer: string, leased: LeasedDelivery[]) => Promise<LeasedDelivery[]>;

/**
 * Schedules one function's deliveries: leases what is due, runs each attempt (runAttempt) up to
 * the concurrency limit, and wakes again when new deliveries are committed, when an attempt ends,
 * or at the next due time (a retry or an expiring lease).
 *
 * To keep a fast function busy without one lease round-trip per attempt, it leases ahead: about
 * one second of work at the measured attempt duration (a slow function gets no more than it can
 * start at once), and lets the leased-ahead deliveries go again when it stops. A batch function
 * leases whole batches instead, one per free slot.
 */
export class FunctionDispatcher {
  #target: DispatchTarget;
  readonly #deps: DispatchDeps;
  readonly #filter: LeaseFilter | undefined;
  readonly #buffer: LeasedDelivery[][] = [];
  #inFlight = 0;
  #pumping = false;
  #again = false;
  #stopped = false;
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;
  /** Moving average of attempt durations; undefined until the first attempt ends. */
  #avgMs: number | undefined;
  readonly #running = new Set<Promise<void>>();

  constructor(target: DispatchTarget, deps: DispatchDeps, filter?: LeaseFilter) {
    this.#target = target;
    this.#deps = deps;
    this.#filter = filter;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get consumer(): string {
    return this.#target.plan.consumer;
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
    if (this.#buffer.length >= this.#max()) return; // enough leased ahead
    void this.#pump();
  }

  /** Stops leasing, lets leased-ahead deliveries go, and waits for the attempts in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#deps.clock.clearTimeout(this.#timer);
    const unstarted = this.#buffer.splice(0).flat();
    if (unstarted.length > 0) {
      await this.#deps.queue.release(unstarted).catch((err: unknown) => {
        this.#deps.log.warn({ err, fn: this.#target.name }, "could not release leases; they expire instead");
      });
    }
    await Promise.all([...this.#running]);
  }

  #max(): number {
    return this.#target.plan.config.concurrency.max;
  }

  /** How many units (deliveries, or batches) to hold: in flight plus about a second of queued work. */
  #prefetchTarget(): number {
    const max = this.#max();
    if (this.#avgMs === undefined || this.#target.plan.config.batch) return max;
    const perSlot = Math.max(1, Math.floor(PREFETCH_WINDOW_MS / Math.max(this.#avgMs, 0.05)));
    return Math.min(MAX_PREFETCH, Math.max(max, max * perSlot));
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      do {
        this.#again = false;
        const want = this.#prefetchTarget() - this.#buffer.length - this.#inFlight;
        if (want <= 0 || this.#stopped) break;
        const units = await this.#lease(want);
        this.#buffer.push(...units);
        this.#drain();
        if (units.length === want) this.#again = true;
      } while (this.#again && !this.#stopped);
      // Idle (nothing in flight or leased ahead): sleep until the next due retry or lease expiry.
      if (this.#buffer.length === 0 && this.#inFlight === 0) await this.#schedule();
    } catch (err) {
      this.#deps.log.error({ err, fn: this.#target.name }, "dispatcher failed to lease; retrying");
      this.#arm(this.#deps.clock.now() + 1_000);
    } finally {
      this.#pumping = false;
    }
    // A wake that arrived after the last lease (while scheduling) must not be lost.
    if (this.#again && !this.#stopped) this.wake();
  }

  /** Leases up to `want` units: single deliveries, or whole batches for a batch function. */
  async #lease(want: number): Promise<LeasedDelivery[][]> {
    const plan = this.#target.plan;
    const leaseMs = plan.config.timeoutMs + LEASE_MARGIN_MS;
    const batch = plan.config.batch;
    if (batch) {
      const units: LeasedDelivery[][] = [];
      while (units.length < want) {
        let leased = await this.#deps.queue.leaseBatch(
          plan.consumer,
          batch.maxSize,
          leaseMs,
          batch.timeoutMs,
        );
        if (leased.length === 0) break;
        if (this.#filter) leased = await this.#filter(plan.consumer, leased);
        if (leased.length > 0) units.push(leased);
      }
      return units;
    }
    let leased = await this.#deps.queue.lease(plan.consumer, want, leaseMs, plan.leaseOptions());
    const got = leased.length;
    if (this.#filter && got > 0) leased = await this.#filter(plan.consumer, leased);
    const units = leased.map((d) => [d]);
    // Filtered-out deliveries still count, so that a full lease asks again.
    while (units.length < got) units.push([]);
    return units;
  }

  /** Starts leased units while there is a free slot. */
  #drain(): void {
    while (this.#inFlight < this.#max() && this.#buffer.length > 0 && !this.#stopped) {
      const unit = this.#buffer.shift()!;
      if (unit.length > 0) this.#start(this.#target, unit);
    }
  }

  /** Arms a timer for the next due delivery (a retry or an expiring lease). */
  async #schedule(): Promise<void> {
    if (this.#stopped) return;
    let next = await this.#deps.queue.nextDueAt(this.#target.plan.consumer);
    // A batch is taken when its oldest delivery has waited the batch window (or it is full).
    const batch = this.#target.plan.config.batch;
    if (next !== undefined && batch) next += batch.timeoutMs;
    this.#arm(Math.min(next ?? Infinity, this.#deps.clock.now() + SAFETY_POLL_MS));
  }

  #arm(at: number): void {
    const clock = this.#deps.clock;
    if (this.#timer && this.#timerAt <= at && this.#timerAt > clock.now()) return;
    clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = clock.setTimeout(
      () => ((this.#timerAt = Infinity), this.wake()),
      Math.max(0, at - clock.now()),
    );
  }

  /**
   * Runs one unit. The concurrency slot is freed as soon as the function returns, not when its
   * outcome is committed: the settle waits for a group commit, and holding the slot meanwhile would
   * leave sandboxes idle on every attempt.
   */
  #start(target: DispatchTarget, unit: LeasedDelivery[]): void {
    this.#inFlight++;
    let freed = false;
    const free = () => {
      if (freed) return;
      freed = true;
      this.#inFlight--;
      this.wake();
    };
    const run = runAttempt(target, unit, this.#deps, free)
      .then((report: AttemptReport) => {
        if (report.ranMs !== undefined) {
          this.#avgMs = this.#avgMs === undefined ? report.ranMs : this.#avgMs * 0.9 + report.ranMs * 0.1;
        }
        if (report.dueAgainAt !== undefined) this.#arm(report.dueAgainAt);
      })
      .catch((err: unknown) => {
        // The lease stays; it expires and the delivery is retried: nothing is lost.
        this.#deps.log.error({ err, fn: target.name, delivery: unit[0]?.id }, "failed to settle an attempt");
      })
      .finally(() => {
        free();
        this.#running.delete(run);
      });
    this.#running.add(run);
  }
}
