/** Key-value with compare-and-set, TTL and ordered reads by prefix, keys scoped by namespace. */

/** A stored value with its version, for compare-and-set. */
export interface KvEntry {
  value: unknown;
  version: number;
  expiresAt: number | undefined;
}

/** A write to the key-value store made together with a settle (idempotency records, ctx.kv). */
export interface KvWrite {
  ns: string;
  key: string;
  /** undefined deletes the key. */
  value: unknown;
  ttlMs?: number;
}

/** One write of {@link KeyValue.batch}: a set, or (value undefined) a delete, with an optional compare. */
export interface KvBatchWrite extends KvWrite {
  /** Only if the current version equals it (0: only if absent). */
  ifVersion?: number;
}

/** Largest number of writes in one {@link KeyValue.batch}. */
export const MAX_KV_BATCH = 1_000;

/** Which keys of a namespace {@link KeyValue.list} reads. */
export interface KvListQuery {
  /** Only keys that start with this. Default: every key. */
  prefix?: string;
  /** Only keys after this one (the last key of the previous page). */
  after?: string;
  /** At most this many entries; backends cap it at {@link MAX_KV_LIST}. */
  limit: number;
}

/** Largest page {@link KeyValue.list} returns. */
export const MAX_KV_LIST = 1_000;

/** Key-value store with compare-and-set and TTL, keys scoped by namespace. Contract: contract/kv.ts. */
export interface KeyValue {
  get(ns: string, key: string): Promise<KvEntry | undefined>;
  /**
   * Writes `value`. With `ifVersion`, only if the current version equals it (0: only if absent).
   * Resolves the new version, or undefined when the compare failed.
   */
  set(
    ns: string,
    key: string,
    value: unknown,
    options?: { ttlMs?: number; ifVersion?: number },
  ): Promise<number | undefined>;
  /** Deletes; with `ifVersion`, only if the version matches. Resolves whether something was deleted. */
  delete(ns: string, key: string, options?: { ifVersion?: number }): Promise<boolean>;
  /**
   * Writes all of `writes` or none, atomically. Resolves the new version of each key in order (0
   * for a delete), or undefined, writing nothing, when any compare failed. A delete of an absent
   * key is no failure unless it has an `ifVersion`. At most {@link MAX_KV_BATCH} writes, each key once.
   */
  batch(writes: KvBatchWrite[]): Promise<number[] | undefined>;
  /**
   * The live entries of `ns` whose keys match `query`, in ascending order of the keys' UTF-8 bytes
   * (the same order on every backend). A page of fewer than `min(limit, MAX_KV_LIST)` entries is the last one; the next page
   * starts `after` the last key of this one.
   */
  list(ns: string, query: KvListQuery): Promise<(KvEntry & { key: string })[]>;
}
