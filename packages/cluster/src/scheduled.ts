import type pg from "pg";
import { crashPoint } from "./crash-points.js";
import type { Queryable } from "./kv.js";
import type { WorkMessage } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { workSubject } from "./options.js";
import type { Outbox, OutboxMessage } from "./outbox.js";
import { inTransaction } from "./transaction.js";

/** A delivery to hold back until `dueAt`. */
export interface ScheduledDelivery {
  id: string;
  fn: string;
  dueAt: number;
  body: WorkMessage;
}

/** The rows of {@link insertScheduled} (JSON). */
export function scheduledRows(items: ScheduledDelivery[]): string {
  return JSON.stringify(
    items.map((d) => ({ id: d.id, fn: d.fn, due_at: d.dueAt, body: JSON.stringify(d.body) })),
  );
}

/**
 * Inserts the rows of `param` into `scheduled`; a repeat (a producer's retry repairing a crashed
 * append) finds its row already there. One statement, or a CTE of a larger one (log.ts).
 */
export function insertScheduled(param: string): string {
  return `INSERT INTO scheduled (id, fn, due_at, body)
    SELECT id, fn, due_at, body FROM json_to_recordset(${param}::json) AS t(id text, fn text, due_at bigint, body text)
    ON CONFLICT (id) DO NOTHING`;
}

/**
 * Deliveries of the stream lane that are not due yet (delayed, released to a later time; debounced
 * ones and those with flow-control keys wait in the table lane instead). JetStream 2.9
 * cannot hold a message back without counting a delivery, so they wait in PostgreSQL and are
 * published to the work stream once due, by whichever node gets there first: every node looks
 * every `pollMs`, and a node also sets a timer for the due times it knows of.
 *
 * Promoting is the cluster's cross-store write (outbox.ts): the transaction that locks the due rows
 * deletes them and stages their work messages (message id `<id>~d<due>`) in the outbox; the relay
 * then publishes them. A crash after the commit (`promote.committed`) leaves the messages to any
 * node's outbox recovery.
 */
export class ScheduledDeliveries {
  readonly #pool: pg.Pool;
  readonly #outbox: Outbox;
  readonly #o: ResolvedClusterOptions;
  readonly #published: (fns: Set<string>) => void;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #poll: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(
    pool: pg.Pool,
    outbox: Outbox,
    o: ResolvedClusterOptions,
    published: (fns: Set<string>) => void,
  ) {
    this.#pool = pool;
    this.#outbox = outbox;
    this.#o = o;
    this.#published = published;
    this.#poll = setInterval(() => this.promoteSoon(), o.pollMs);
    this.#poll.unref();
  }

  /** Stores deliveries to publish later (in `q`'s transaction, if given). */
  async add(items: ScheduledDelivery[], q: Queryable = this.#pool): Promise<void> {
    if (items.length === 0) return;
    await q.query(insertScheduled("$1"), [scheduledRows(items)]);
    this.added(items);
  }

  /** Arms the timer for deliveries stored by someone else's statement (log.ts). */
  added(items: ScheduledDelivery[]): void {
    if (items.length > 0) this.#arm(Math.min(...items.map((d) => d.dueAt)));
  }

  /** Earliest due time of `fn`'s waiting deliveries, if any. */
  async nextDueAt(fn: string): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ due: number | null }>(
      "SELECT min(due_at) AS due FROM scheduled WHERE fn = $1",
      [fn],
    );
    const due = rows[0]?.due ?? undefined;
    if (due !== undefined) this.#arm(due);
    return due;
  }

  /** How many deliveries of `fn` wait. */
  async count(fn: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM scheduled WHERE fn = $1",
      [fn],
    );
    return rows[0]?.n ?? 0;
  }

  /** Publishes what is due, if this node knows something is (cheap to call before every lease). */
  async promoteIfDue(): Promise<void> {
    if (this.#running) await this.#running;
    else if (this.#timerAt <= Date.now()) await this.promote();
  }

  /** Starts a promotion unless one runs; errors are logged (the next poll retries). */
  promoteSoon(): void {
    if (this.#closed) return;
    this.promote().catch((err: unknown) =>
      this.#o.log?.warn({ err }, "[cluster] publishing due deliveries failed"),
    );
  }

  /** Publishes every due delivery to the work stream and removes it here. */
  promote(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      try {
        do {
          this.#again = false;
          await this.#promote();
        } while (this.#again && !this.#closed);
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async #promote(): Promise<void> {
    if (this.#timerAt <= Date.now()) this.#timerAt = Infinity;
    const fns = new Set<string>();
    for (;;) {
      const msgs = await inTransaction(this.#pool, async (client) => {
        const { rows } = await client.query<{ id: string; fn: string; due_at: number; body: string }>(
          `SELECT id, fn, due_at, body FROM scheduled WHERE due_at <= now_ms()
           ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED`,
        );
        if (rows.length === 0) return [];
        await client.query("DELETE FROM scheduled WHERE id = ANY($1::text[])", [rows.map((r) => r.id)]);
        const msgs = rows.map((r): OutboxMessage => ({
          id: `${r.id}~d${r.due_at}`,
          subject: workSubject(this.#o, r.fn),
          body: r.body,
        }));
        await this.#outbox.stage(client, msgs);
        for (const r of rows) fns.add(r.fn);
        return msgs;
      });
      if (msgs.length === 0) break;
      crashPoint(this.#o, "promote.committed");
      await this.#outbox.relay(msgs);
      if (msgs.length < 500) break;
    }
    if (fns.size > 0) this.#published(fns);
    // Whatever waits longer (added meanwhile, or by another node) gets its own timer.
    const { rows } = await this.#pool.query<{ due: number | null }>(
      "SELECT min(due_at) AS due FROM scheduled",
    );
    if (rows[0]?.due != null) this.#arm(rows[0].due);
  }

  #arm(at: number): void {
    if (this.#closed || (this.#timerAt > Date.now() && at >= this.#timerAt)) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.promoteSoon(), Math.max(0, at - Date.now()));
    this.#timer.unref();
  }

  /** Stops the timers and waits for a promotion in progress. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#poll);
    await this.#running?.catch(() => undefined);
  }
}
