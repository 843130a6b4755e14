import type Database from "better-sqlite3";
import type { Clock } from "../../clock/clock.js";
import type { KeyValue, KvBatchWrite, KvEntry, KvListQuery, KvWrite } from "../types.js";
import { checkKvBatch } from "../kv-batch.js";
import { MAX_KV_LIST } from "../types.js";
import type { GroupCommit } from "./group-commit.js";

interface KvRow {
  value: string;
  version: number;
  expires_at: number | null;
}

/**
 * Key-value with compare-and-set and TTL on SQLite. An expired entry reads as absent (version 0
 * for compare-and-set) but its version number keeps counting up, so a stale `ifVersion` from before
 * the expiry can never match a new entry.
 */
export class EmbeddedKeyValue implements KeyValue {
  readonly #wq: GroupCommit;
  readonly #get: Database.Statement;
  readonly #put: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #clock: Clock;
  readonly #list: Database.Statement;

  constructor(db: Database.Database, wq: GroupCommit, clock: Clock) {
    this.#wq = wq;
    this.#clock = clock;
    this.#get = db.prepare("SELECT value, version, expires_at FROM kv WHERE ns = ? AND key = ?");
    this.#put = db.prepare(
      `INSERT INTO kv (ns, key, value, version, expires_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, version = excluded.version, expires_at = excluded.expires_at`,
    );
    // A delete expires the entry instead of removing it, so that its version keeps counting.
    this.#delete = db.prepare("UPDATE kv SET expires_at = ? WHERE ns = ? AND key = ?");
    // SQLite compares text by its UTF-8 bytes: the order the interface promises. The range starts
    // at the prefix (or after the last page), so the primary key's index finds the first row.
    this.#list = db.prepare(
      `SELECT key, value, version, expires_at FROM kv
       WHERE ns = @ns AND key >= @prefix AND substr(key, 1, length(@prefix)) = @prefix
         AND (@after IS NULL OR key > @after) AND (expires_at IS NULL OR expires_at > @now)
       ORDER BY key LIMIT @limit`,
    );
  }

  get(ns: string, key: string): Promise<KvEntry | undefined> {
    const row = this.#get.get(ns, key) as KvRow | undefined;
    if (!row || isExpired(row, this.#clock.now())) return Promise.resolve(undefined);
    return Promise.resolve({
      value: JSON.parse(row.value) as unknown,
      version: row.version,
      expiresAt: row.expires_at ?? undefined,
    });
  }

  list(ns: string, query: KvListQuery): Promise<(KvEntry & { key: string })[]> {
    const rows = this.#list.all({
      ns,
      prefix: query.prefix ?? "",
      after: query.after ?? null,
      now: this.#clock.now(),
      limit: Math.max(0, Math.min(query.limit, MAX_KV_LIST)),
    }) as (KvRow & { key: string })[];
    return Promise.resolve(
      rows.map((r) => ({
        key: r.key,
        value: JSON.parse(r.value) as unknown,
        version: r.version,
        expiresAt: r.expires_at ?? undefined,
      })),
    );
  }

  set(
    ns: string,
    key: string,
    value: unknown,
    options: { ttlMs?: number; ifVersion?: number } = {},
  ): Promise<number | undefined> {
    const json = JSON.stringify(value);
    if (json === undefined) return Promise.reject(new TypeError("kv values must be JSON-serializable"));
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const row = this.#get.get(ns, key) as KvRow | undefined;
      const live = row && !isExpired(row, now) ? row.version : 0;
      if (options.ifVersion !== undefined && options.ifVersion !== live) return undefined;
      const version = (row?.version ?? 0) + 1;
      const expires = options.ttlMs !== undefined ? now + options.ttlMs : null;
      this.#put.run(ns, key, json, version, expires);
      return version;
    });
  }

  batch(writes: KvBatchWrite[]): Promise<number[] | undefined> {
    try {
      checkKvBatch(writes);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    // One writer: nothing else runs between the compares and the writes.
    return this.#wq.run(() => {
      const now = this.#clock.now();
      for (const w of writes) {
        if (w.ifVersion === undefined) continue;
        const row = this.#get.get(w.ns, w.key) as KvRow | undefined;
        if ((row && !isExpired(row, now) ? row.version : 0) !== w.ifVersion) return undefined;
      }
      return writes.map((w) => this.writeSync(w, now));
    });
  }

  /**
   * An unconditional set or delete; runs inside a group-commit transaction (from `settle`, `batch`).
   * Returns the new version (0 after a delete).
   */
  writeSync(w: KvWrite, now: number): number {
    const row = this.#get.get(w.ns, w.key) as KvRow | undefined;
    if (w.value === undefined) {
      if (row && !isExpired(row, now)) this.#delete.run(now, w.ns, w.key);
      return 0;
    }
    const expires = w.ttlMs !== undefined ? now + w.ttlMs : null;
    const version = (row?.version ?? 0) + 1;
    this.#put.run(w.ns, w.key, JSON.stringify(w.value), version, expires);
    return version;
  }

  delete(ns: string, key: string, options: { ifVersion?: number } = {}): Promise<boolean> {
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const row = this.#get.get(ns, key) as KvRow | undefined;
      if (!row || isExpired(row, now)) return false;
      if (options.ifVersion !== undefined && options.ifVersion !== row.version) return false;
      return this.#delete.run(now, ns, key).changes === 1;
    });
  }
}

function isExpired(row: KvRow, now: number): boolean {
  return row.expires_at !== null && row.expires_at <= now;
}
