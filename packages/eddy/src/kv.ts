import type { Duration } from "./duration.js";

/** A value in a function's key-value state, with the version to compare-and-set against. */
export interface KvItem<T = unknown> {
  value: T;
  /** Grows by one on every write of the key; use it as `ifVersion` for compare-and-set. */
  version: number;
  /** Epoch ms at which the entry expires, if it has a TTL. */
  expiresAt?: number;
}

/** Options of {@link FunctionKv.set}. */
export interface KvSetOptions {
  /** The entry expires this long after the write. */
  ttl?: Duration;
  /** Write only if the current version is this one (0: only if the key is absent). */
  ifVersion?: number;
}

/**
 * Durable key-value state of one function (`ctx.kv`), shared by all its sandboxes and versions and
 * kept across restarts. Writes are durable when their promise resolves, whatever the attempt's
 * outcome afterwards: unlike `ctx.emit`, a write is not undone when the attempt fails, so make
 * writes idempotent (or guard them with `ifVersion`). Keys are 1-512 characters; values are JSON
 * of at most 256 KiB.
 *
 * @example
 * const seen = await ctx.kv.update<number>("count", (n) => (n ?? 0) + 1);
 * await ctx.kv.set(`order:${id}`, "paid", { ttl: "7d", ifVersion: 0 }); // only the first time
 */
export interface FunctionKv {
  /** The live entry under `key`, or undefined. */
  get<T = unknown>(key: string): Promise<KvItem<T> | undefined>;
  /** Writes `value`; resolves the new version, or undefined when `ifVersion` did not match. */
  set(key: string, value: unknown, options?: KvSetOptions): Promise<number | undefined>;
  /** Deletes `key` (only at version `ifVersion` if given); resolves whether an entry was deleted. */
  delete(key: string, options?: { ifVersion?: number }): Promise<boolean>;
  /**
   * Reads, applies `fn` and writes back with compare-and-set, retrying on a concurrent write (up to
   * 10 times); resolves the value written.
   */
  update<T>(key: string, fn: (current: T | undefined) => T, options?: { ttl?: Duration }): Promise<T>;
}
