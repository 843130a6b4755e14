import { createClock } from "@sinonjs/fake-timers";
import type { Clock, ClockTimer } from "./clock.js";

type FakeClock = ReturnType<typeof createClock>;

/**
 * A clock that moves only when told to: give it to `startEddy({ clock })` and a test drives due
 * times, leases, backoff, flow-control windows and schedules with {@link advance} instead of
 * sleeping. The timers are @sinonjs/fake-timers' (an unpatched clock of their own: no global is
 * touched, so the test's own timers and the sandboxes keep real time). {@link advance} fires every
 * timer due on the way in time order, each at its own time, and between two timers yields to the
 * event loop, so what a timer starts (a lease, a write) gets going before the next one fires.
 * What a timer starts is still asynchronous: wait for its effect (a record, a delivery) as a signal.
 *
 * @example
 * const clock = new ManualClock(Date.parse("2026-01-01T00:00:00Z"));
 * const eddy = await startEddy({ dir, clock });
 * await clock.advance(1_000); // a retry due in a second is leased now
 */
export class ManualClock implements Clock {
  readonly #clock: FakeClock;
  readonly #waiters = new Set<{ at: number; count: number; resolve: () => void }>();

  /** Starts at `start` (epoch ms; default: the real time now). */
  constructor(start: number = Date.now()) {
    this.#clock = createClock(start);
  }

  now(): number {
    return this.#clock.now;
  }

  setTimeout(fn: () => void, ms: number): ClockTimer {
    const timer = this.#clock.setTimeout(fn, ms) as ClockTimer;
    // Time stands still, but what is due now happens now, as it would on the real clock.
    if (!(ms > 0)) setImmediate(() => void this.#clock.tickAsync(0));
    this.#armed();
    return timer;
  }

  setInterval(fn: () => void, ms: number): ClockTimer {
    const timer = this.#clock.setInterval(fn, ms) as ClockTimer;
    this.#armed();
    return timer;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    if (timer !== undefined) this.#clock.clearTimeout(timer as never);
  }

  clearInterval(timer: ClockTimer | undefined): void {
    if (timer !== undefined) this.#clock.clearInterval(timer as never);
  }

  /** Moves time forward by `ms`, firing the timers due on the way (and those they arm within it). */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance(ms): ms must be >= 0, got ${ms}`);
    await this.#clock.tickAsync(ms);
  }

  /** Moves time forward to `time` (epoch ms); see {@link advance}. */
  async advanceTo(time: number): Promise<void> {
    await this.advance(Math.max(0, time - this.now()));
  }

  /** When the earliest armed timer fires, or undefined when none is armed. */
  nextTimerAt(): number | undefined {
    let next: number | undefined;
    for (const at of this.#armedAt()) if (next === undefined || at < next) next = at;
    return next;
  }

  /**
   * Resolves once `count` timers (default 1) due at or before `at` (default: now) are armed: the
   * signal that the server has scheduled what the test is about to advance to (a retry, a tick),
   * so that advancing cannot overtake it.
   */
  whenArmed(at: number = this.now(), count = 1): Promise<void> {
    if (this.#due(at) >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.add({ at, count, resolve }));
  }

  /** When each armed timer fires next. */
  *#armedAt(): Iterable<number> {
    for (const t of this.#clock.timers?.values() ?? []) if (t.callAt !== undefined) yield t.callAt;
  }

  #due(at: number): number {
    let n = 0;
    for (const t of this.#armedAt()) if (t <= at) n++;
    return n;
  }

  #armed(): void {
    for (const w of this.#waiters) {
      if (this.#due(w.at) >= w.count) {
        this.#waiters.delete(w);
        w.resolve();
      }
    }
  }
}
