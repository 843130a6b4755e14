/**
 * Where the server reads the time and waits for it. Every decision the server takes by the clock
 * (due times, lease ends, backoff, flow-control windows, schedules, cache lifetimes, the embedded
 * store's expiry and dedup windows) asks a `Clock` it was given, so that tests can drive time
 * instead of sleeping (`ManualClock` in `@eddy/server/testing`). What measures real work keeps real
 * time: attempt durations, a sandbox's timeout, idle sandboxes, and the sandbox's own `Date`.
 */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
  /** Calls `fn` once, `ms` from now. A real clock's timers do not keep the process alive. */
  setTimeout(fn: () => void, ms: number): ClockTimer;
  /** Calls `fn` every `ms`. */
  setInterval(fn: () => void, ms: number): ClockTimer;
  /** Cancels a timer of `setTimeout`; `undefined` is ignored. */
  clearTimeout(timer: ClockTimer | undefined): void;
  /** Cancels a timer of `setInterval`; `undefined` is ignored. */
  clearInterval(timer: ClockTimer | undefined): void;
}

/** A timer handle; only the clock that made it can clear it. */
export type ClockTimer = object;

/**
 * The real clock: `Date.now()` and Node's timers, unreferenced (the server's timers never keep a
 * process alive on their own; its listening socket does).
 *
 * @example
 * const eddy = await startEddy({ dir: "examples/shop", clock: realClock }); // the default
 */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  clearInterval: (timer) => clearInterval(timer as NodeJS.Timeout | undefined),
};
