import type pg from "pg";
import type { DeliveryInfo, LeasedDelivery, LeaseOptions, QueueCounts } from "@eddy/server";
import type { Queryable } from "./kv.js";
import type { ResolvedClusterOptions } from "./options.js";
import type { InfoRow, LeasedRow, TableDelivery } from "./table-rows.js";
import { inTransaction } from "./transaction.js";
import {
  newTableToken,
  TABLE_COLUMNS,
  TABLE_RECORD,
  toInfo,
  toLeased,
  toRecords,
  tokensOf,
} from "./table-rows.js";

/** Tells the nodes (this one too, with `local`) that deliveries of these consumers may be leasable. */
export type TableNotify = (fns: Set<string>, local: boolean) => void;

const RETURNING =
  "d.id, p.ord, d.attempt, d.event_seq, d.event, d.created_at, d.group_key, d.redrives, d.due_at";
// No group limit: the largest value of the function's integer parameter.
const NO_LIMIT = 2 ** 31 - 1;
// How long finished rows stay as tombstones: the work stream's duplicate window (streams.ts).
const TOMBSTONE_MS = 10 * 60_000;

/**
 * Inserts the not-debounced deliveries of `param` ({@link toRecords}' JSON), ignoring an id the
 * table has (a live delivery, or a tombstone): one statement, or a CTE of a larger one (log.ts).
 */
export function insertDeliveries(param: string): string {
  return `INSERT INTO deliveries (${TABLE_COLUMNS})
    SELECT id, fn, coalesce(due_at, now_ms()), attempt, event_seq, event_id, event_type, event, created_at,
      redrives, group_key, priority, cancel_key, batch_key
    FROM json_to_recordset(${param}::json) ${TABLE_RECORD}
    ON CONFLICT (id) DO NOTHING`;
}

/**
 * The table lane: deliveries in the PostgreSQL `deliveries` table, for what the work stream cannot
 * do (groups, FIFO, priority, batches, cancel keys, debounce, queues: see `takesTableLane`). It has
 * the embedded store's semantics, row for row: `due_at` is the due time of a ready row and the
 * lease end of a leased one, a lease is fenced by the row's lease token (any node can settle it,
 * and a stale token changes nothing), an expired lease is leasable again.
 *
 * Leases without groups are one `UPDATE … FOR UPDATE SKIP LOCKED`; leases with groups and batch
 * leases run in a PL/pgSQL function under a per-function advisory lock (migrations.ts), since
 * counting a group's leases and taking more must not interleave between nodes.
 *
 * So that functions that never use the table pay for it at most once per `pollMs`, a look that
 * finds a consumer's lane empty is remembered that long, until this node appends to it or another
 * node says it did (the wake message's table flag).
 */
export class TableLane {
  readonly #pool: pg.Pool;
  readonly #o: ResolvedClusterOptions;
  readonly #notify: TableNotify;
  /** Consumer → when a look found its lane empty. */
  readonly #empty = new Map<string, number>();
  /** Consumer → changes since start: a look that raced with a change must not mark it empty. */
  readonly #changes = new Map<string, number>();

  constructor(pool: pg.Pool, o: ResolvedClusterOptions, notify: TableNotify) {
    this.#pool = pool;
    this.#o = o;
    this.#notify = notify;
  }

  /** Forgets that these consumers' lanes were empty (something was appended to them). */
  touch(fns: Iterable<string>): void {
    for (const fn of fns) {
      this.#empty.delete(fn);
      this.#changes.set(fn, (this.#changes.get(fn) ?? 0) + 1);
    }
  }

  /** Whether the lane of `fn` may hold deliveries (false: a recent look found it empty). */
  mayHold(fn: string): boolean {
    const at = this.#empty.get(fn);
    return at === undefined || Date.now() - at >= this.#o.pollMs;
  }

  /**
   * Stores deliveries; a debounced one merges into a queued (not leased) delivery of its consumer
   * with the same key: that one takes the new event and is due `periodMs` from now, but no later
   * than `maxWaitMs` after it was made. A repeat of a stored delivery (same id) is ignored, also
   * while its tombstone lasts. `q`: a transaction's connection, to store them in it.
   */
  async add(list: TableDelivery[], q: Queryable = this.#pool): Promise<void> {
    if (list.length === 0) return;
    const plain = list.filter((d) => !d.debounce);
    if (plain.length > 0) {
      await q.query(insertDeliveries("$1"), [toRecords(plain)]);
    }
    for (const d of list) {
      if (!d.debounce) continue;
      if (q === this.#pool) await inTransaction(this.#pool, (client) => this.#debounce(client, d));
      else await this.#debounce(q as pg.PoolClient, d);
    }
    this.touch(list.map((d) => d.fn));
  }

  /**
   * One debounced delivery, under a lock on its key (held until `client`'s transaction ends), so
   * that two nodes never make two rows.
   */
  async #debounce(client: pg.PoolClient, d: TableDelivery): Promise<void> {
    const { key, periodMs, maxWaitMs } = d.debounce!;
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':debounce:' || $1 || '/' || $2))",
      [d.fn, key],
    );
    await client.query(
      `WITH hit AS (
         SELECT id FROM deliveries WHERE fn = $2 AND debounce_key = $3 AND state = 0 ORDER BY n LIMIT 1
       ), merged AS (
         UPDATE deliveries d SET event_seq = t.event_seq, event_id = t.event_id, event_type = t.event_type,
           event = t.event, due_at = LEAST(now_ms() + $4::bigint, d.max_due)
         FROM hit, json_to_recordset($1::json) ${TABLE_RECORD}
         WHERE d.id = hit.id RETURNING d.id
       )
       INSERT INTO deliveries (${TABLE_COLUMNS}, debounce_key, max_due)
       SELECT id, fn, now_ms() + LEAST($4::bigint, $5::bigint), attempt, event_seq, event_id, event_type, event,
         created_at, redrives, group_key, priority, cancel_key, batch_key, $3, now_ms() + $5::bigint
       FROM json_to_recordset($1::json) ${TABLE_RECORD}
       WHERE NOT EXISTS (SELECT 1 FROM merged)
       ON CONFLICT (id) DO NOTHING`,
      // No maxWait is Infinity, which bigint cannot hold: NULL, and LEAST ignores NULLs.
      [toRecords([d]), d.fn, key, periodMs, Number.isFinite(maxWaitMs) ? maxWaitMs : null],
    );
  }

  /** Leases due deliveries of `fn` (or whose lease expired), honouring groups and priority. */
  async lease(
    fn: string,
    max: number,
    leaseMs: number,
    options: LeaseOptions = {},
  ): Promise<LeasedDelivery[]> {
    const token = newTableToken(this.#o.instance);
    let rows: LeasedRow[];
    if (options.perGroup !== undefined || options.ordered) {
      ({ rows } = await this.#pool.query<LeasedRow>("SELECT * FROM lease_flow($1, $2, $3, $4, $5, $6, $7)", [
        fn,
        max,
        leaseMs,
        token,
        options.ordered ? 1 : (options.perGroup ?? NO_LIMIT),
        options.ordered === true,
        options.byPriority === true,
      ]));
    } else {
      const order = options.byPriority ? "priority DESC, due_at, n" : "due_at, n";
      ({ rows } = await this.#pool.query<LeasedRow>(
        `WITH locked AS (
           SELECT id, priority, due_at, n FROM deliveries WHERE fn = $1 AND state < 2 AND due_at <= now_ms()
           ORDER BY ${order} LIMIT $2 FOR UPDATE SKIP LOCKED
         ), p AS (SELECT id, row_number() OVER (ORDER BY ${order}) AS ord FROM locked)
         UPDATE deliveries d SET state = 1, attempt = d.attempt + 1, lease_token = $3, due_at = now_ms() + $4::bigint
         FROM p WHERE d.id = p.id RETURNING ${RETURNING}`,
        [fn, max, token, leaseMs],
      ));
    }
    if (rows.length === 0) await this.#lookEmpty(fn);
    return this.#leased(fn, rows, token);
  }

  /** Leases one batch (see DeliveryQueue.leaseBatch); empty when none is ready. */
  async leaseBatch(
    fn: string,
    maxSize: number,
    leaseMs: number,
    windowMs: number,
  ): Promise<LeasedDelivery[]> {
    const token = newTableToken(this.#o.instance);
    const { rows } = await this.#pool.query<LeasedRow>("SELECT * FROM lease_batch($1, $2, $3, $4, $5)", [
      fn,
      maxSize,
      leaseMs,
      windowMs,
      token,
    ]);
    return this.#leased(fn, rows, token);
  }

  #leased(fn: string, rows: LeasedRow[], token: string): LeasedDelivery[] {
    // RETURNING gives rows in no promised order: `ord` is the order they were picked in.
    return rows.sort((a, b) => a.ord - b.ord).map((r) => toLeased(fn, r, token));
  }

  /** Marks `fn`'s lane empty if it is, unless something was appended meanwhile. */
  async #lookEmpty(fn: string): Promise<void> {
    const before = this.#changes.get(fn);
    const { rows } = await this.#pool.query<{ any: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM deliveries WHERE fn = $1 AND state < 2) AS any",
      [fn],
    );
    if (!rows[0]?.any && this.#changes.get(fn) === before) this.#empty.set(fn, Date.now());
  }

  /** Gives leases back without counting the attempt: due at `dueAt`, or now. */
  async release(leases: LeasedDelivery[], dueAt?: number): Promise<void> {
    const byToken = new Map<string, string[]>();
    for (const l of leases) byToken.set(l.leaseToken, [...(byToken.get(l.leaseToken) ?? []), l.id]);
    const fns = new Set<string>();
    for (const [token, ids] of byToken) {
      const { rows } = await this.#pool.query<{ fn: string }>(
        `UPDATE deliveries SET state = 0, due_at = coalesce($3::bigint, now_ms()), attempt = attempt - 1,
           lease_token = NULL WHERE id = ANY($1::text[]) AND lease_token = $2 AND state = 1 RETURNING fn`,
        [ids, token, dueAt ?? null],
      );
      for (const r of rows) fns.add(r.fn);
    }
    if (fns.size > 0 && (dueAt === undefined || dueAt <= Date.now())) this.#notify(fns, false);
  }

  /** Moves the end of a held lease, from any node; false if the lease is no longer held. */
  async extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean> {
    const { rows } = await this.#pool.query<{ fn: string }>(
      "UPDATE deliveries SET due_at = $3 WHERE id = $1 AND lease_token = $2 AND state = 1 RETURNING fn",
      [lease.id, lease.leaseToken, leaseUntil],
    );
    const fn = rows[0]?.fn;
    if (fn !== undefined && leaseUntil <= Date.now()) this.#notify(new Set([fn]), true);
    return fn !== undefined;
  }

  /** Drops queued (not leased) deliveries of `fn` with this cancel key. */
  async cancel(fn: string, cancelKey: string): Promise<{ id: string; eventId: string }[]> {
    const { rows } = await this.#pool.query<{ id: string; event_id: string }>(
      `UPDATE deliveries SET state = 2, done_at = now_ms() WHERE fn = $1 AND cancel_key = $2 AND state = 0
       RETURNING id, event_id`,
      [fn, cancelKey],
    );
    return rows.map((r) => ({ id: r.id, eventId: r.event_id }));
  }

  /**
   * When to look at `fn`'s lane again: the next due time or lease end. Deliveries due already were
   * not leasable at the last lease (their group was full, or they wait for their FIFO head): a
   * settle that frees their group wakes the nodes, and `pollMs` later is the safety net. Batched
   * deliveries answer their due time as it is: the dispatcher adds the batch window to it.
   */
  async nextDueAt(fn: string): Promise<number | undefined> {
    if (!this.mayHold(fn)) return undefined;
    const before = this.#changes.get(fn);
    const { rows } = await this.#pool.query<{
      future: number | null;
      batch: number | null;
      past: boolean | null;
      now: number;
    }>(
      `SELECT min(due_at) FILTER (WHERE due_at > t.now) AS future,
         min(due_at) FILTER (WHERE due_at <= t.now AND batch_key IS NOT NULL) AS batch,
         bool_or(due_at <= t.now AND batch_key IS NULL) AS past, t.now
       FROM (SELECT now_ms() AS now) t LEFT JOIN deliveries ON fn = $1 AND state < 2 GROUP BY t.now`,
      [fn],
    );
    const r = rows[0]!;
    if (r.future === null && r.batch === null && !r.past) {
      if (this.#changes.get(fn) === before) this.#empty.set(fn, Date.now());
      return undefined;
    }
    return Math.min(r.future ?? Infinity, r.batch ?? Infinity, r.past ? r.now + this.#o.pollMs : Infinity);
  }

  /** Ready (due or not) and leased deliveries of `fn`. */
  async counts(fn: string): Promise<Omit<QueueCounts, "dead">> {
    const { rows } = await this.#pool.query<{ ready: number; leased: number }>(
      `SELECT count(*) FILTER (WHERE state = 0)::int AS ready, count(*) FILTER (WHERE state = 1)::int AS leased
       FROM deliveries WHERE fn = $1 AND state < 2`,
      [fn],
    );
    return rows[0] ?? { ready: 0, leased: 0 };
  }

  /** The admin view of the lane: leased deliveries, or overdue ones, oldest first. */
  async inspect(q: {
    state: "leased" | "overdue";
    fn?: string;
    overdueMs?: number;
    limit: number;
  }): Promise<DeliveryInfo[]> {
    const args: unknown[] = [q.state === "leased" ? 0 : (q.overdueMs ?? 30_000), q.limit];
    const cond =
      q.state === "leased" ? "state = 1 AND due_at > now_ms() - $1" : "state < 2 AND due_at <= now_ms() - $1";
    if (q.fn !== undefined) args.push(q.fn);
    const { rows } = await this.#pool.query<InfoRow>(
      `SELECT id, fn, state, attempt, event_id, event_type, created_at, due_at FROM deliveries
       WHERE ${cond}${q.fn !== undefined ? " AND fn = $3" : ""} ORDER BY due_at, n LIMIT $2`,
      args,
    );
    return rows.map(toInfo);
  }

  /**
   * Gives back the leases a dead node instance held: due now, their token void (a settle with it
   * changes nothing), the attempt counted (a crash uses one up). Not queues': a queue receipt is
   * its receiver's, whichever node it came through, and keeps its visibility timeout.
   */
  async takeOver(instance: string): Promise<number> {
    const { rows } = await this.#pool.query<{ fn: string }>(
      `UPDATE deliveries SET state = 0, lease_token = NULL, due_at = now_ms()
       WHERE state = 1 AND due_at > now_ms() AND lease_token LIKE $1 AND fn NOT LIKE 'queue:%'
       RETURNING fn`,
      [tokensOf(instance)],
    );
    if (rows.length > 0) this.#notify(new Set(rows.map((r) => r.fn)), true);
    return rows.length;
  }

  /** Removes tombstones older than the duplicate window. */
  async sweep(): Promise<void> {
    await this.#pool.query("DELETE FROM deliveries WHERE state = 2 AND done_at < now_ms() - $1::bigint", [
      TOMBSTONE_MS,
    ]);
  }
}
