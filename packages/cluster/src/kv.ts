import type pg from "pg";
import type { KeyValue, KvBatchWrite, KvEntry, KvListQuery, KvWrite } from "@eddy/server";
import { checkKvBatch, MAX_KV_LIST } from "@eddy/server";
import { inTransaction } from "./transaction.js";

const LIVE = "(kv.expires_at IS NULL OR kv.expires_at > now_ms())";
const EXPIRES = "CASE WHEN $4::bigint IS NULL THEN NULL ELSE now_ms() + $4::bigint END";

/**
 * Key-value with compare-and-set and TTL in PostgreSQL, with the embedded store's semantics: an
 * expired or deleted entry reads as absent (version 0 for compare-and-set) but keeps its row, so
 * its version keeps counting and a stale `ifVersion` can never match a new entry. Each write is
 * one statement, so concurrent compare-and-sets from many nodes are decided by the row lock, and
 * TTLs by PostgreSQL's clock rather than by each node's.
 */
export class ClusterKeyValue implements KeyValue {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async get(ns: string, key: string): Promise<KvEntry | undefined> {
    const { rows } = await this.#pool.query<{ value: string; version: number; expires_at: number | null }>(
      `SELECT value, version, expires_at FROM kv WHERE ns = $1 AND key = $2 AND ${LIVE}`,
      [ns, key],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      value: JSON.parse(row.value) as unknown,
      version: row.version,
      expiresAt: row.expires_at ?? undefined,
    };
  }

  /**
   * One transaction. The rows are locked in key order, so that two batches over the same keys
   * wait for each other instead of deadlocking.
   */
  async batch(writes: KvBatchWrite[]): Promise<number[] | undefined> {
    checkKvBatch(writes);
    const order = writes.map((_, i) => i);
    order.sort((i, j) => cmp(writes[i]!.ns, writes[j]!.ns) || cmp(writes[i]!.key, writes[j]!.key));
    try {
      return await inTransaction(this.#pool, async (client) => {
        const versions = new Array<number>(writes.length).fill(0);
        for (const i of order) {
          const w = writes[i]!;
          if (w.value === undefined) {
            const deleted = await deleteWith(client, w.ns, w.key, { ifVersion: w.ifVersion });
            if (!deleted && w.ifVersion !== undefined) throw COMPARE_FAILED;
          } else {
            const v = await setWith(client, w.ns, w.key, w.value, { ttlMs: w.ttlMs, ifVersion: w.ifVersion });
            if (v === undefined) throw COMPARE_FAILED;
            versions[i] = v;
          }
        }
        return versions;
      });
    } catch (err) {
      if (err === COMPARE_FAILED) return undefined;
      throw err;
    }
  }

  /** Byte order (`COLLATE "C"`, index kv_bytes), whatever the database's collation. */
  async list(ns: string, query: KvListQuery): Promise<(KvEntry & { key: string })[]> {
    const prefix = query.prefix ?? "";
    const { rows } = await this.#pool.query<{
      key: string;
      value: string;
      version: number;
      expires_at: number | null;
    }>(
      `SELECT key, value, version, expires_at FROM kv
       WHERE ns = $1 AND key COLLATE "C" >= $2 AND starts_with(key, $2)
         AND ($3::text IS NULL OR key COLLATE "C" > $3) AND ${LIVE}
       ORDER BY key COLLATE "C" LIMIT $4`,
      [ns, prefix, query.after ?? null, Math.max(0, Math.min(query.limit, MAX_KV_LIST))],
    );
    return rows.map((r) => ({
      key: r.key,
      value: JSON.parse(r.value) as unknown,
      version: r.version,
      expiresAt: r.expires_at ?? undefined,
    }));
  }

  async set(
    ns: string,
    key: string,
    value: unknown,
    options: { ttlMs?: number; ifVersion?: number } = {},
  ): Promise<number | undefined> {
    return setWith(this.#pool, ns, key, value, options);
  }

  async delete(ns: string, key: string, options: { ifVersion?: number } = {}): Promise<boolean> {
    return deleteWith(this.#pool, ns, key, options);
  }
}

/** Thrown inside a batch's transaction to roll it back. */
const COMPARE_FAILED = new Error("kv batch: a compare failed");

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What runs a statement: the pool, or the client of a transaction. */
/** A pool or one connection of it (inside a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;

/**
 * Applies a key-value write made with a settle (ctx.kv, idempotency records) through `q`, so that
 * the table lane can make it part of the settle's transaction.
 */
export async function applyKvWrite(q: Queryable, w: KvWrite): Promise<void> {
  if (w.value === undefined) await deleteWith(q, w.ns, w.key, {});
  else await setWith(q, w.ns, w.key, w.value, w.ttlMs !== undefined ? { ttlMs: w.ttlMs } : {});
}

async function setWith(
  q: Queryable,
  ns: string,
  key: string,
  value: unknown,
  options: { ttlMs?: number; ifVersion?: number },
): Promise<number | undefined> {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError("kv values must be JSON-serializable");
  const args = [ns, key, json, options.ttlMs ?? null];
  let sql: string;
  if (options.ifVersion === undefined || options.ifVersion === 0) {
    // Insert, or overwrite: always (no condition), or only a dead entry (ifVersion 0).
    const onlyDead = options.ifVersion === 0 ? `WHERE NOT ${LIVE}` : "";
    sql = `INSERT INTO kv AS kv (ns, key, value, version, expires_at) VALUES ($1, $2, $3, 1, ${EXPIRES})
           ON CONFLICT (ns, key) DO UPDATE SET value = excluded.value, version = kv.version + 1,
             expires_at = excluded.expires_at ${onlyDead}
           RETURNING version`;
  } else {
    args.push(options.ifVersion);
    sql = `UPDATE kv SET value = $3, version = kv.version + 1, expires_at = ${EXPIRES}
           WHERE ns = $1 AND key = $2 AND version = $5 AND ${LIVE} RETURNING version`;
  }
  const { rows } = await q.query<{ version: number }>(sql, args);
  return rows[0]?.version;
}

async function deleteWith(
  q: Queryable,
  ns: string,
  key: string,
  options: { ifVersion?: number },
): Promise<boolean> {
  const args: unknown[] = [ns, key];
  let cond = "";
  if (options.ifVersion !== undefined) {
    args.push(options.ifVersion);
    cond = "AND version = $3";
  }
  // A delete expires the entry instead of removing it, so that its version keeps counting.
  const { rowCount } = await q.query(
    `UPDATE kv SET expires_at = now_ms() WHERE ns = $1 AND key = $2 AND ${LIVE} ${cond}`,
    args,
  );
  return rowCount === 1;
}
