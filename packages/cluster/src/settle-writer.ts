import type pg from "pg";
import type { Queryable } from "./kv.js";
import type { InvocationRow } from "@eddy/server";
import type { InvocationRecord } from "@eddy/server";
import { Joiner } from "./coalesce.js";
import { toRow } from "./records.js";

/** A `dead_letters` row. */
export interface DeadLetterRow {
  id: string;
  fn: string;
  event_seq: number;
  event_type: string;
  event: string;
  attempts: number;
  redrives: number;
  created_at: number;
  dead_at: number;
  error: string;
  /** The flow-control keys of a table-lane delivery (JSON), so that a redrive puts it back there. */
  lane: string | null;
}

/** What one settle writes to PostgreSQL. */
export interface SettleWrite {
  invocation?: InvocationRecord;
  /** Park this delivery in its dead-letter queue. */
  dead?: DeadLetterRow;
  /**
   * Remove a dead letter of this delivery, if any: a delivery dead-lettered by a node that then
   * crashed before acking it runs again, and if it then succeeds its dead letter is stale.
   */
  clearDead?: string;
}

/**
 * Group commit for settles: every settle issued while the previous statement runs is written by
 * the next one, a single statement (one transaction, one WAL flush) however many there are.
 */
export class SettleWriter {
  readonly #pool: pg.Pool;
  readonly #joiner = new Joiner<SettleWrite, void>(
    async (writes) => {
      await writeSettles(this.#pool, writes);
      return writes.map(() => undefined);
    },
    { waitTurn: true },
  );

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Resolves once `write` is committed. */
  write(write: SettleWrite): Promise<void> {
    return this.#joiner.add(write);
  }

  /** Resolves when everything written so far is committed (or failed). */
  flush(): Promise<void> {
    return this.#joiner.flush();
  }
}

/** Writes settles in one statement: on the pool, or in the caller's transaction. */
export async function writeSettles(q: Queryable, writes: SettleWrite[]): Promise<void> {
  const invocations: InvocationRow[] = writes.flatMap((w) => (w.invocation ? [toRow(w.invocation)] : []));
  const dead = new Map<string, DeadLetterRow>();
  for (const w of writes) if (w.dead) dead.set(w.dead.id, w.dead);
  const clear = writes.flatMap((w) => (w.clearDead && !dead.has(w.clearDead) ? [w.clearDead] : []));
  await q.query(
    `WITH ins AS (
       INSERT INTO invocations SELECT * FROM json_populate_recordset(NULL::invocations, $1::json)
       ON CONFLICT (id) DO NOTHING
     ), dl AS (
       INSERT INTO dead_letters SELECT * FROM json_populate_recordset(NULL::dead_letters, $2::json)
       ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, dead_at = excluded.dead_at,
         error = excluded.error, redrives = excluded.redrives
     ), del AS (
       DELETE FROM dead_letters WHERE id = ANY($3::text[])
     ) SELECT 1`,
    [JSON.stringify(invocations), JSON.stringify([...dead.values()]), clear],
  );
}
