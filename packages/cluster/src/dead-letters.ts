import type { JetStreamClient } from "@nats-io/jetstream";
import type pg from "pg";
import type { DeadFilter, DeadLetter, DeadQuery, ErrorInfo } from "@eddy/server";
import type { WorkMessage } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { workSubject } from "./options.js";
import type { DeadLetterRow } from "./settle-writer.js";

/**
 * The dead-letter queues, in PostgreSQL: a dead-lettered delivery is a row (its JetStream message
 * was acked). Listing is oldest event first, like the embedded store's insertion order.
 */
export class ClusterDeadLetters {
  readonly #pool: pg.Pool;
  readonly #js: JetStreamClient;
  readonly #o: ResolvedClusterOptions;
  readonly #redriven: (fns: Set<string>) => void;

  constructor(
    pool: pg.Pool,
    js: JetStreamClient,
    o: ResolvedClusterOptions,
    redriven: (fns: Set<string>) => void,
  ) {
    this.#pool = pool;
    this.#js = js;
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
   * Publishes the selected dead letters to the work stream again (same id, a fresh attempt budget,
   * one more redrive), then deletes their rows, in the transaction that locked them: a crash in
   * between publishes again, deduplicated by the message id `<id>~r<redrives>`.
   */
  async redrive(fn: string, filter: DeadFilter): Promise<number> {
    const { sql, args } = where(fn, filter);
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<DeadLetterRow>(
        `SELECT * FROM dead_letters WHERE ${sql.join(" AND ")} FOR UPDATE SKIP LOCKED`,
        args,
      );
      await Promise.all(
        rows.map((r) => {
          const body: WorkMessage = {
            s: r.event_seq,
            c: r.created_at,
            e: JSON.parse(r.event),
            a: 0,
            r: r.redrives + 1,
          };
          return this.#js.publish(workSubject(this.#o, fn), JSON.stringify(body), {
            msgID: `${r.id}~r${r.redrives + 1}`,
          });
        }),
      );
      await client.query("DELETE FROM dead_letters WHERE id = ANY($1::text[])", [rows.map((r) => r.id)]);
      await client.query("COMMIT");
      if (rows.length > 0) this.#redriven(new Set([fn]));
      return rows.length;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
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
