import type pg from "pg";
import type { LeasedDelivery, SettleResult, Settlement, SettleWrites } from "@eddy/server";
import { joinWhileRunning } from "./coalesce.js";
import { crashPoint } from "./crash-points.js";
import { applyKvWrite } from "./kv.js";
import type { ClusterLog, StagedAppend } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { toRow } from "./records.js";
import type { TableNotify } from "./table-lane.js";
import { inTransaction } from "./transaction.js";

/** What settling a lease of the table lane works with. */
export interface TableSettleDeps {
  pool: pg.Pool;
  log: ClusterLog;
  options: ResolvedClusterOptions;
  notify: TableNotify;
  /** Plain acks (no emits, no key-value writes), joined: see {@link tableAcks}. */
  ack: (ack: PlainAck) => Promise<SettledRow>;
}

/** An ack without emits or key-value writes: the row's change and the record. */
interface PlainAck {
  id: string;
  token: string;
  /** The invocation record as a row (JSON), if any. */
  invocation: unknown;
}

const FENCE = "id = $1 AND lease_token = $2 AND state = 1";
const RECORD = `INSERT INTO invocations SELECT * FROM json_populate_recordset(NULL::invocations, $3::json)
  ON CONFLICT (id) DO NOTHING`;

/**
 * One statement per outcome: the row's change (fenced by the lease token) and the invocation
 * record (kept whether or not the lease still holds: the attempt happened). A dead letter moves to
 * `dead_letters` with its flow-control keys, so that a redrive puts it back in this lane.
 */
const SETTLE: Record<Settlement["kind"], string> = {
  ack: `WITH s AS (
      UPDATE deliveries SET state = 2, done_at = now_ms(), lease_token = NULL WHERE ${FENCE}
      RETURNING fn, group_key
    ), ins AS (${RECORD})
    SELECT count(*)::int AS n, min(fn) AS fn, min(group_key) AS group_key FROM s`,
  retry: `WITH s AS (
      UPDATE deliveries SET state = 0, due_at = $4, lease_token = NULL WHERE ${FENCE}
      RETURNING fn, group_key
    ), ins AS (${RECORD})
    SELECT count(*)::int AS n, min(fn) AS fn, min(group_key) AS group_key FROM s`,
  dead: `WITH s AS (
      UPDATE deliveries SET state = 2, done_at = now_ms(), lease_token = NULL WHERE ${FENCE}
      RETURNING id, fn, event_seq, event_type, event, attempt, redrives, created_at, group_key, priority,
        cancel_key, batch_key, n
    ), dl AS (
      INSERT INTO dead_letters (id, fn, event_seq, event_type, event, attempts, redrives, created_at, dead_at, error, lane)
      SELECT id, fn, event_seq, event_type, event, attempt, redrives, created_at, now_ms(), $4,
        json_build_object('g', group_key, 'p', priority, 'c', cancel_key, 'b', batch_key, 'n', n)::text FROM s
      ON CONFLICT (id) DO UPDATE SET attempts = excluded.attempts, dead_at = excluded.dead_at,
        error = excluded.error, redrives = excluded.redrives, event = excluded.event, lane = excluded.lane
    ), ins AS (${RECORD})
    SELECT count(*)::int AS n, min(fn) AS fn, min(group_key) AS group_key FROM s`,
};

/**
 * Ends an attempt of a table-lane delivery: the cluster's cross-store write (outbox.ts), fenced
 * first. A plain ack is one statement, joined with others (`tableAcks`); a retry or dead letter
 * without key-value writes is one statement too: the row's outcome fenced by its lease token, and
 * the record (kept whether or not the lease holds: the attempt happened). Otherwise one
 * transaction whose first statement is the fenced outcome (it locks the row until the commit; a
 * lost lease rolls everything back but the record), then the key-value writes and the emits' rows
 * and outbox messages; the emits' log messages are published before it (step 1 of an append,
 * after a look at the fence, so that a lost lease rarely leaves a log message; crash point
 * `settle.logged`), and relayed after it (`settle.committed`). A settle that frees a group's slot
 * wakes the nodes, since deliveries of that group may be leasable now.
 */
export async function settleTableLease(
  deps: TableSettleDeps,
  lease: LeasedDelivery,
  settlement: Settlement,
  extra: SettleWrites,
): Promise<SettleResult> {
  const args: unknown[] = [
    lease.id,
    lease.leaseToken,
    JSON.stringify(extra.invocation ? [toRow(extra.invocation)] : []),
  ];
  if (settlement.kind === "retry") args.push(settlement.dueAt);
  else if (settlement.kind === "dead") args.push(JSON.stringify(settlement.error));
  const kv = extra.kv ?? [];
  const emits = settlement.kind === "ack" ? (extra.emit ?? []) : [];
  let row: SettledRow;
  if (emits.length === 0 && kv.length === 0) {
    row =
      settlement.kind === "ack"
        ? await deps.ack({
            id: lease.id,
            token: lease.leaseToken,
            invocation: extra.invocation ? toRow(extra.invocation) : undefined,
          })
        : await settleRow(deps.pool, settlement.kind, args);
    crashPoint(deps.options, "settle.committed");
    return { settled: settled(deps, row), emitted: [] };
  }
  let staged: StagedAppend | undefined;
  if (emits.length > 0) {
    const { rowCount } = await deps.pool.query(`SELECT 1 FROM deliveries WHERE ${FENCE}`, args.slice(0, 2));
    if (rowCount !== 1) return { settled: await recordOnly(deps.pool, args[2] as string), emitted: [] };
    staged = await deps.log.stage(emits, extra);
    crashPoint(deps.options, "settle.logged");
  }
  // A lost lease writes nothing but the record: the transaction is undone.
  const lost = new Error("lease lost");
  try {
    row = await inTransaction(deps.pool, async (client) => {
      const r = await settleRow(client, settlement.kind, args);
      if (r.n !== 1) throw lost;
      for (const w of kv) await applyKvWrite(client, w);
      if (staged) await deps.log.write(client, staged);
      return r;
    });
  } catch (err) {
    if (err !== lost) throw err;
    return { settled: await recordOnly(deps.pool, args[2] as string), emitted: [] };
  }
  crashPoint(deps.options, "settle.committed");
  const emitted = staged ? await deps.log.relay(staged) : [];
  return { settled: settled(deps, row), emitted };
}

/** Whether the lease held; if it freed a group's slot, wakes the nodes. */
function settled(deps: TableSettleDeps, row: SettledRow): boolean {
  const held = row.n === 1;
  if (held && row.group_key !== null && row.fn !== null) deps.notify(new Set([row.fn]), true);
  return held;
}

/**
 * Acks that arrive while one runs are written together by the next, in one statement: a busy
 * consumer's acks cost one round trip and one WAL flush per batch, not one each.
 */
export function tableAcks(pool: pg.Pool): (ack: PlainAck) => Promise<SettledRow> {
  return joinWhileRunning<PlainAck, SettledRow>(async (acks) => {
    const { rows } = await pool.query<{ id: string; token: string; fn: string; group_key: string | null }>(
      `WITH s AS (
         UPDATE deliveries d SET state = 2, done_at = now_ms(), lease_token = NULL
         FROM json_to_recordset($1::json) AS t(id text, token text)
         WHERE d.id = t.id AND d.lease_token = t.token AND d.state = 1
         RETURNING d.id, t.token, d.fn, d.group_key
       ), ins AS (
         INSERT INTO invocations SELECT * FROM json_populate_recordset(NULL::invocations, $2::json)
         ON CONFLICT (id) DO NOTHING
       ) SELECT * FROM s`,
      [
        JSON.stringify(acks.map((a) => ({ id: a.id, token: a.token }))),
        JSON.stringify(acks.flatMap((a) => (a.invocation ? [a.invocation] : []))),
      ],
    );
    // Keyed by token too: of two acks of one row, only the current lease's holds.
    const held = new Map(rows.map((r) => [`${r.id}\0${r.token}`, r]));
    return acks.map((a) => {
      const r = held.get(`${a.id}\0${a.token}`);
      return r ? { n: 1, fn: r.fn, group_key: r.group_key } : { n: 0, fn: null, group_key: null };
    });
  });
}

/** What a settle statement answers: 1 if the lease held, and the delivery's consumer and group. */
interface SettledRow {
  n: number;
  fn: string | null;
  group_key: string | null;
}

async function settleRow(
  q: pg.Pool | pg.PoolClient,
  kind: Settlement["kind"],
  args: unknown[],
): Promise<SettledRow> {
  const { rows } = await q.query<SettledRow>(SETTLE[kind], args);
  return rows[0]!;
}

/** Keeps the record of an attempt whose lease was lost; resolves false (not settled). */
async function recordOnly(pool: pg.Pool, invocations: string): Promise<false> {
  await pool.query(
    `INSERT INTO invocations SELECT * FROM json_populate_recordset(NULL::invocations, $1::json)
     ON CONFLICT (id) DO NOTHING`,
    [invocations],
  );
  return false;
}
