/** Most buckets kept per route; the idle ones go first when there are more. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * A token bucket per caller: `limit` requests per `periodMs` on average, bursts up to
 * `limit + burst`. In memory, per node: exact on one node; a cluster of N nodes admits up to N
 * times as much (docs/gateway.md).
 */
export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(limit: number, periodMs: number, burst: number) {
    this.#capacity = limit + burst;
    this.#perMs = limit / periodMs;
  }

  /** Takes a token for `key` at `now` (epoch ms): 0 when admitted, else how many ms until a token is there. */
  take(key: string, now: number): number {
    let b = this.#buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.#capacity, b.tokens + (now - b.at) * this.#perMs);
      b.at = now;
      // Most recently used last, so that eviction below drops the idlest.
      this.#buckets.delete(key);
    } else {
      b = { tokens: this.#capacity, at: now };
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.ceil((1 - b.tokens) / this.#perMs);
  }
}
