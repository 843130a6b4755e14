import type pg from "pg";
import type { DeadFilter, DeadLetter, DeadQuery, ErrorInfo } from "@eddy/server";
import type { WorkMessage } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { workSubject } from "./options.js";
import { crashPoint } from "./crash-points.js";
import type { Outbox, OutboxMessage } from "./outbox.js";
import type { DeadLetterRow } from "./settle-writer.js";
import { inTransaction } from "./transaction.js";

/**
 * The dead-letter queues, in PostgreSQL: a dead-lettered delivery is a row (its JetStream message
 * was acked). Listing is oldest event first, like the embedded store's insertion order.
 */
export class ClusterDeadLetters {
  readonly #pool: pg.Pool;
  readonly #outbox: Outbox;
  readonly #o: ResolvedClusterOptions;
  readonly #redriven: (fns: Set<string>, table: Set<string>) => void;

  /** @param redriven told which consumers got deliveries back, and which of them in the table lane. */
  constructor(
    pool: pg.Pool,
    outbox: Outbox,
    o: ResolvedClusterOptions,
    redriven: (fns: Set<string>, table: Set<string>) => void,
  ) {
    this.#pool = pool;
    this.#outbox = outbox;
    this.#o = o;
    this.#redriven = redriven;
  }

  async list(fn: string, q: DeadQuery): Promise<DeadLetter[]> {
    const { sql, args } = where(fn, q);
    if (q.afterId !== undefined) {
      args.push(seqOf(q.afterId));
      sql.push(`event_seq > $${args.length}`);
    }
    args.push(q.limit);
    const { rows } = await this.#pool.query<DeadLetterRow>(
      `SELECT * FROM dead_letters WHERE ${sql.join(" AND ")} ORDER BY event_seq LIMIT $${args.length}`,
      args,
    );
    return rows.map(toDeadLetter);
  }

  async get(fn: string, id: string): Promise<DeadLetter | undefined> {
    const { rows } = await this.#pool.query<DeadLetterRow>(
      "SELECT * FROM dead_letters WHERE fn = $1 AND id = $2",
      [fn, id],
    );
    return rows[0] && toDeadLetter(rows[0]);
  }

  async count(fn: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM dead_letters WHERE fn = $1",
      [fn],
    );
    return rows[0]?.n ?? 0;
  }

  async counts(): Promise<Record<string, number>> {
    const { rows } = await this.#pool.query<{ fn: string; n: number }>(
      "SELECT fn, count(*)::int AS n FROM dead_letters GROUP BY fn",
    );
    return Object.fromEntries(rows.map((r) => [r.fn, r.n]));
  }

  /**
   * Puts the selected dead letters back (same id, a fresh attempt budget, one more redrive), then
   * deletes their rows, in the transaction that locked them: the cluster's cross-store write
   * (outbox.ts). Those of the stream lane become outbox rows of that transaction (message id
   * `<id>~r<redrives>`), relayed to the work stream after the commit (a crash at
   * `redrive.committed` leaves them to any node's recovery); those of the table lane go back to its
   * table with their flow-control keys and their place in insertion order (a FIFO group's head is
   * its head again).
   */
  async redrive(fn: string, filter: DeadFilter): Promise<number> {
    const { sql, args } = where(fn, filter);
    const msgs: OutboxMessage[] = [];
    const rows = await inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<DeadLetterRow>(
        `SELECT * FROM dead_letters WHERE ${sql.join(" AND ")} FOR UPDATE SKIP LOCKED`,
        args,
      );
      const table = rows.filter((r) => r.lane !== null).map((r) => r.id);
      const stream = rows.filter((r) => r.lane === null);
      for (const r of stream) {
        const body: WorkMessage = {
          s: r.event_seq,
          c: r.created_at,
          e: JSON.parse(r.event),
          a: 0,
          r: r.redrives + 1,
        };
        msgs.push({
          id: `${r.id}~r${r.redrives + 1}`,
          subject: workSubject(this.#o, fn),
          body: JSON.stringify(body),
        });
      }
      await this.#outbox.stage(client, msgs);
      if (table.length > 0) {
        // Over the tombstone the settle left, or anew if it was swept.
        await client.query(
          `INSERT INTO deliveries (id, n, fn, state, due_at, attempt, event_seq, event_id, event_type, event,
             created_at, redrives, group_key, priority, cancel_key, batch_key)
           SELECT id, coalesce((lane::json ->> 'n')::bigint, nextval('deliveries_n')), fn, 0, now_ms(), 0,
             event_seq, event::json ->> 'id', event_type, event, created_at, redrives + 1, lane::json ->> 'g',
             coalesce((lane::json ->> 'p')::integer, 0), lane::json ->> 'c', lane::json ->> 'b'
           FROM dead_letters WHERE id = ANY($1::text[])
           ON CONFLICT (id) DO UPDATE SET n = excluded.n, state = 0, due_at = excluded.due_at, attempt = 0,
             lease_token = NULL, event_seq = excluded.event_seq, event_id = excluded.event_id,
             event_type = excluded.event_type, event = excluded.event, redrives = excluded.redrives,
             group_key = excluded.group_key, priority = excluded.priority, cancel_key = excluded.cancel_key,
             batch_key = excluded.batch_key, done_at = NULL
           WHERE deliveries.state = 2`,
          [table],
        );
      }
      await client.query("DELETE FROM dead_letters WHERE id = ANY($1::text[])", [rows.map((r) => r.id)]);
      return rows;
    });
    if (rows.length > 0) crashPoint(this.#o, "redrive.committed");
    await this.#outbox.relay(msgs);
    const table = rows.filter((r) => r.lane !== null);
    if (rows.length > 0) this.#redriven(new Set([fn]), new Set(table.length > 0 ? [fn] : []));
    return rows.length;
  }

  async purge(fn: string, filter: DeadFilter): Promise<number> {
    const { sql, args } = where(fn, filter);
    const { rowCount } = await this.#pool.query(`DELETE FROM dead_letters WHERE ${sql.join(" AND ")}`, args);
    return rowCount ?? 0;
  }
}

/** SQL conditions of a filter of one consumer's dead letters. */
function where(fn: string, f: DeadFilter): { sql: string[]; args: unknown[] } {
  const sql = ["fn = $1"];
  const args: unknown[] = [fn];
  const add = (cond: (n: string) => string, value: unknown) => {
    args.push(value);
    sql.push(cond(`$${args.length}`));
  };
  if (f.ids !== undefined) add((n) => `id = ANY(${n}::text[])`, f.ids);
  if (f.eventType !== undefined) add((n) => `event_type = ${n}`, f.eventType);
  if (f.errorName !== undefined) add((n) => `(error::json ->> 'name') = ${n}`, f.errorName);
  if (f.deadAfter !== undefined) add((n) => `dead_at >= ${n}`, f.deadAfter);
  if (f.deadBefore !== undefined) add((n) => `dead_at < ${n}`, f.deadBefore);
  return { sql, args };
}

/** The event sequence of a delivery id (`<seq>.<consumer>`). */
function seqOf(id: string): number {
  const n = Number.parseInt(id, 10);
  return Number.isFinite(n) ? n : 0;
}

function toDeadLetter(r: DeadLetterRow): DeadLetter {
  return {
    id: r.id,
    fn: r.fn,
    event: JSON.parse(r.event) as DeadLetter["event"],
    attempts: r.attempts,
    redrives: r.redrives,
    createdAt: r.created_at,
    deadAt: r.dead_at,
    error: JSON.parse(r.error) as ErrorInfo,
  };
}
