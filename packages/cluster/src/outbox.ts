import type { JetStreamClient } from "@nats-io/jetstream";
import type pg from "pg";
import { Joiner } from "./coalesce.js";
import { crashPoint } from "./crash-points.js";
import type { Queryable } from "./kv.js";
import type { ResolvedClusterOptions } from "./options.js";
import { fnOfWorkSubject } from "./options.js";

/** A JetStream message committed with a PostgreSQL write: `id` is its Nats-Msg-Id. */
export interface OutboxMessage {
  id: string;
  subject: string;
  body: string;
}

// Rows older than this were left by a node that stopped between its commit and its relay (or
// whose delete is late: a republish is deduplicated). Well inside the work stream's duplicate
// window (10 minutes), so that the republish of a row already published is always dropped.
const RECOVER_AFTER_MS = 2_000;
const RECOVER_BATCH = 500;

/**
 * Inserts outbox rows from three array parameters starting at `$first` (see {@link outboxArgs}):
 * one statement, or a CTE of a larger one (log.ts). A repeated id is kept once.
 */
export function insertOutbox(first: number): string {
  return `INSERT INTO outbox (id, subject, body)
    SELECT * FROM unnest($${first}::text[], $${first + 1}::text[], $${first + 2}::text[]) ON CONFLICT (id) DO NOTHING`;
}

/** The parameters of {@link insertOutbox}. */
export function outboxArgs(msgs: OutboxMessage[]): string[][] {
  return [msgs.map((m) => m.id), msgs.map((m) => m.subject), msgs.map((m) => m.body)];
}

/**
 * The one way the cluster writes across PostgreSQL and JetStream. A write that must be atomic
 * across both is one PostgreSQL transaction that also inserts the JetStream messages it implies
 * into `outbox` (`stage`); after the commit the writer publishes them itself (`relay`), each with
 * its row id as Nats-Msg-Id, and then deletes their rows. A node that stops after the commit
 * leaves rows that any node publishes within seconds (`recover`); JetStream drops the copy of a
 * message it already has (same id, inside its duplicate window). So once the transaction has
 * committed, every message reaches JetStream, once.
 *
 * The one JetStream write that comes before the transaction is the log publish of an append, since
 * the log hands out the sequence the deliveries are named by; it is idempotent (its id is derived
 * from the dedup key) and a log message whose transaction never committed was never acknowledged
 * and has no deliveries (log.ts).
 */
export class Outbox {
  readonly #pool: pg.Pool;
  readonly #js: JetStreamClient;
  readonly #o: ResolvedClusterOptions;
  readonly #published: (fns: Set<string>) => void;
  readonly #deletes = new Joiner<string[], void>(async (batches) => {
    await this.#pool.query("DELETE FROM outbox WHERE id = ANY($1::text[])", [batches.flat()]);
    return batches.map(() => undefined);
  });
  readonly #timer: NodeJS.Timeout;
  #recovering: Promise<number> | undefined;

  /** @param published told which consumers got work messages from a recovery (to wake the nodes). */
  constructor(
    pool: pg.Pool,
    js: JetStreamClient,
    o: ResolvedClusterOptions,
    published: (fns: Set<string>) => void,
  ) {
    this.#pool = pool;
    this.#js = js;
    this.#o = o;
    this.#published = published;
    this.#timer = setInterval(() => {
      this.recover().catch((err: unknown) =>
        o.log?.warn({ err }, "[cluster] publishing left-over outbox messages failed"),
      );
    }, o.pollMs);
    this.#timer.unref();
  }

  /** Inserts messages into the outbox, inside the caller's transaction (a repeated id is kept once). */
  async stage(q: Queryable, msgs: OutboxMessage[]): Promise<void> {
    if (msgs.length === 0) return;
    await q.query(insertOutbox(1), outboxArgs(msgs));
  }

  /**
   * After the commit that staged `msgs`: publishes them, then deletes their rows. Resolves once
   * JetStream has them; the delete is joined with others' and not waited for (a row it misses is
   * published again by `recover`, and dropped by JetStream as a duplicate).
   */
  async relay(msgs: OutboxMessage[]): Promise<void> {
    if (msgs.length === 0) return;
    await Promise.all(msgs.map((m) => this.#js.publish(m.subject, m.body, { msgID: m.id })));
    crashPoint(this.#o, "relay.published");
    this.#deletes
      .add(msgs.map((m) => m.id))
      .catch((err: unknown) =>
        this.#o.log?.warn(
          { err },
          "[cluster] deleting relayed outbox rows failed (they are published again, deduplicated)",
        ),
      );
  }

  /** Publishes the rows that no node relayed (its writer stopped after the commit). Resolves how many. */
  recover(): Promise<number> {
    return (this.#recovering ??= this.#recover().finally(() => (this.#recovering = undefined)));
  }

  async #recover(): Promise<number> {
    let n = 0;
    const fns = new Set<string>();
    for (;;) {
      const { rows } = await this.#pool.query<OutboxMessage>(
        `SELECT id, subject, body FROM outbox WHERE created_at < now_ms() - $1::bigint
         ORDER BY created_at LIMIT $2`,
        [RECOVER_AFTER_MS, RECOVER_BATCH],
      );
      if (rows.length === 0) break;
      await this.relay(rows);
      await this.#deletes.flush();
      n += rows.length;
      for (const r of rows) fns.add(fnOfWorkSubject(this.#o, r.subject));
      if (rows.length < RECOVER_BATCH) break;
    }
    if (fns.size > 0) this.#published(fns);
    return n;
  }

  /** Stops recovering and waits for pending deletes. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#recovering?.catch(() => undefined);
    await this.#deletes.flush();
  }
}
