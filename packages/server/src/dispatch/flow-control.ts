/**
 * In-process flow-control state: throttles (token buckets) and rate limits (fixed windows), per
 * function and key. Each node keeps its own, so in a cluster the limits hold per node; the
 * embedded backend has one node, where they are exact.
 */

/** A token bucket: `limit` tokens per `periodMs`, holding at most `limit + burst`. */
export class Throttle {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(limit: number, periodMs: number, burst: number) {
    this.#rate = limit / periodMs;
    this.#capacity = Math.max(1, burst + 1);
  }

  /** Takes a token for `key` at `now` (epoch ms): 0 when granted, else the ms to wait until one is available. */
  take(key: string, now: number): number {
    const b = this.#buckets.get(key) ?? { tokens: this.#capacity, at: now };
    b.tokens = Math.min(this.#capacity, b.tokens + (now - b.at) * this.#rate);
    b.at = now;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.#rate);
  }
}

/** At most `limit` admissions per key in each window of `periodMs`. */
export class RateLimit {
  readonly #limit: number;
  readonly #periodMs: number;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(limit: number, periodMs: number) {
    this.#limit = limit;
    this.#periodMs = periodMs;
  }

  /** True if `key` may run at `now` (epoch ms), and counts it. */
  admit(key: string, now: number): boolean {
    let w = this.#windows.get(key);
    if (!w || now - w.start >= this.#periodMs) {
      w = { start: now, count: 0 };
      this.#windows.set(key, w);
    }
    if (w.count >= this.#limit) return false;
    w.count++;
    return true;
  }
}
