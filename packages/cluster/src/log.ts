import { createHash } from "node:crypto";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type pg from "pg";
import type { CloudEvent } from "eddy";
import { withTraceparent } from "@eddy/server";
import type { AppendEntry, AppendResult, EventLog, NewDelivery, StoredEvent } from "@eddy/server";
import { coalesceAppends } from "./coalesce.js";
import { crashPoint } from "./crash-points.js";
import type { Queryable } from "./kv.js";
import type { Outbox, OutboxMessage } from "./outbox.js";
import { insertOutbox, outboxArgs } from "./outbox.js";
import { insertScheduled, scheduledRows } from "./scheduled.js";
import { insertDeliveries } from "./table-lane.js";
import { toRecords } from "./table-rows.js";
import type { ResolvedClusterOptions } from "./options.js";
import { workSubject } from "./options.js";
import type { ScheduledDelivery, ScheduledDeliveries } from "./scheduled.js";
import { LOG_DUPLICATE_WINDOW_MS } from "./streams.js";
import type { TableLane } from "./table-lane.js";
import type { TableDelivery } from "./table-rows.js";
import { takesTableLane } from "./table-rows.js";
import { inTransaction } from "./transaction.js";

/** A message of the log stream. */
interface LogMessage {
  /** Received at (epoch ms, by the clock of the node that appended). */
  r: number;
  e: CloudEvent;
  /** The consumers it was routed to. */
  d: string[];
}

/** A message of the work stream: one delivery of an event to one function. */
export interface WorkMessage {
  /** Log sequence of the event. */
  s: number;
  /** Created at (epoch ms). */
  c: number;
  e: CloudEvent;
  /** Attempts used before this copy was published (a released lease re-publishes with it). */
  a?: number;
  /** Times the delivery was redriven from the dead-letter queue. */
  r?: number;
  /** When it was due, if later than `c` (delayed, released to a later time): the admin view's overdue. */
  d?: number;
}

/**
 * An append whose log messages are published and whose PostgreSQL rows are still to be written
 * (see {@link ClusterLog.stage}).
 */
export interface StagedAppend {
  entries: AppendEntry[];
  results: AppendResult[];
  /** Entries whose log message was published: their dedup keys to record. */
  published: { key: string; seq: number; windowMs: number; entry: AppendEntry }[];
  /** Indexes of entries not found live in the dedup window. */
  fresh: number[];
  /** [entry, entry it repeats] within the call. */
  repeats: [number, number][];
  later: ScheduledDelivery[];
  table: TableDelivery[];
  /** The work-stream messages of due plain deliveries: outbox rows. */
  work: OutboxMessage[];
}

/**
 * The event log on JetStream, with the dedup window in PostgreSQL.
 *
 * An append is the cluster's cross-store write (outbox.ts) in three steps; a crash between two
 * only repeats work when the producer sends again (it got no answer, so it must), and loses or
 * doubles nothing it was told:
 *
 * 1. `stage`: PostgreSQL says which dedup keys are live (→ `duplicate`, with their sequence); each
 *    other event goes to the JetStream log with message id `hash(source, id):generation` (an
 *    expired key gives a new generation, so a repeat after the window is a new event even while
 *    JetStream remembers the old id). Two nodes appending the same event at once get the same
 *    sequence. The log hands out the sequence that names the deliveries, so this step comes first;
 *    a log message whose transaction never commits (crash point `append.logged`) was never
 *    acknowledged and has no deliveries.
 * 2. `write`, one PostgreSQL statement (a transaction with debounced deliveries, or the settle's
 *    transaction for emits): the deliveries, named `<sequence>.<function>` (also when
 *    step 1 said `duplicate`: that repairs a node that crashed after it): table-lane rows, rows of
 *    `scheduled` for plain deliveries not due yet, outbox rows for the work stream; the traces;
 *    the dedup keys (only where absent or expired). Every table ignores an id it has.
 * 3. `relay`: the outbox rows go to the work stream (message id = delivery id), then are deleted;
 *    a crash before (`append.committed`, `relay.published`) leaves them to any node's recovery.
 *
 * The producer is told `accepted` after step 3 has published, so an acknowledged event's
 * deliveries are leasable at once; from step 2's commit on they would be anyway.
 */
export class ClusterLog implements EventLog {
  readonly #js: JetStreamClient;
  readonly #jsm: JetStreamManager;
  readonly #pool: pg.Pool;
  readonly #o: ResolvedClusterOptions;
  readonly #scheduled: ScheduledDeliveries;
  readonly #table: TableLane;
  readonly #outbox: Outbox;
  readonly #appended: (fns: Set<string>, table: Set<string>) => void;

  /**
   * @param appended told which functions got deliveries, and which of them in the table lane
   *   (to wake other nodes).
   */
  constructor(
    js: JetStreamClient,
    jsm: JetStreamManager,
    pool: pg.Pool,
    o: ResolvedClusterOptions,
    lanes: { scheduled: ScheduledDeliveries; table: TableLane; outbox: Outbox },
    appended: (fns: Set<string>, table: Set<string>) => void,
  ) {
    this.#js = js;
    this.#jsm = jsm;
    this.#pool = pool;
    this.#o = o;
    this.#scheduled = lanes.scheduled;
    this.#table = lanes.table;
    this.#outbox = lanes.outbox;
    this.#appended = appended;
  }

  /** Concurrent calls are joined into one (coalesce.ts). */
  readonly append = coalesceAppends(async (entries, options) => {
    const staged = await this.stage(entries, options);
    crashPoint(this.#o, "append.logged");
    if (staged.table.some((d) => d.debounce)) await inTransaction(this.#pool, (c) => this.write(c, staged));
    else await this.write(this.#pool, staged);
    crashPoint(this.#o, "append.committed");
    return this.relay(staged);
  });

  /** Step 1: the dedup look-up and the log publishes. */
  async stage(entries: AppendEntry[], options: { dedupWindowMs: number }): Promise<StagedAppend> {
    const results: AppendResult[] = new Array(entries.length);
    // Entries with the same key in one call: the first wins, the others repeat its result.
    const first = new Map<string, number>();
    const repeats: [number, number][] = [];
    entries.forEach((e, i) => {
      const j = first.get(e.dedupKey);
      if (j === undefined) first.set(e.dedupKey, i);
      else repeats.push([i, j]);
    });
    // Keys are stored hashed: they hold a NUL (PostgreSQL text cannot) and may be long.
    const hashes = new Map([...first.keys()].map((k) => [k, hash(k)]));
    const { rows } = await this.#pool.query<{ key: string; seq: number; live: boolean }>(
      "SELECT key, seq, expires_at > now_ms() AS live FROM dedup WHERE key = ANY($1::text[])",
      [[...hashes.values()]],
    );
    const known = new Map(rows.map((r) => [r.key, r]));
    const row = (key: string) => known.get(hashes.get(key)!);
    const fresh: number[] = [];
    for (const [key, i] of first) {
      const seen = row(key);
      if (seen?.live) results[i] = { status: "duplicate", seq: seen.seq };
      else fresh.push(i);
    }
    const now = Date.now();
    const later: ScheduledDelivery[] = [];
    const table: TableDelivery[] = [];
    const work: OutboxMessage[] = [];
    const published = await Promise.all(
      fresh.map(async (i) => {
        const entry = entries[i]!;
        const key = hashes.get(entry.dedupKey)!;
        const generation = row(entry.dedupKey)?.seq ?? 0;
        // The event travels whole (JetStream, table lane), so its span goes in it as its traceparent.
        const event = withTraceparent(entry.event, entry.trace);
        const body: LogMessage = { r: now, e: event, d: entry.deliveries.map((d) => d.fn) };
        const ack = await this.#js.publish(this.#o.logSubject, JSON.stringify(body), {
          msgID: `${key}:${generation}`,
        });
        const msg: WorkMessage = { s: ack.seq, c: now, e: event };
        const text = JSON.stringify(msg);
        for (const d of entry.deliveries) {
          const id = `${ack.seq}.${d.fn}`;
          if (takesTableLane(d)) table.push(tableDelivery(id, d, ack.seq, event, now));
          else if (d.dueAt !== undefined && d.dueAt > now) {
            later.push({ id, fn: d.fn, dueAt: d.dueAt, body: { ...msg, d: d.dueAt } });
          } else {
            const body = d.dueAt === undefined ? text : JSON.stringify({ ...msg, d: d.dueAt });
            work.push({ id, subject: workSubject(this.#o, d.fn), body });
          }
        }
        results[i] = { status: ack.duplicate ? "duplicate" : "accepted", seq: ack.seq };
        return { key, seq: ack.seq, windowMs: entry.dedupWindowMs ?? options.dedupWindowMs, entry };
      }),
    );
    return { entries, results, published, fresh, repeats, later, table, work };
  }

  /**
   * Step 2: one statement (data-modifying CTEs commit together) on the pool, or inside the
   * caller's transaction (a settle's); debounced deliveries, which merge under a lock, first need
   * a transaction of their own: `q` must then be a transaction's connection.
   */
  async write(q: Queryable, s: StagedAppend): Promise<void> {
    const debounced = s.table.filter((d) => d.debounce);
    if (debounced.length > 0) await this.#table.add(debounced, q);
    const traced = s.published.filter((p) => p.entry.trace);
    // Dedup keys in key order, so that two writes over the same keys wait rather than deadlock.
    const keys = [...s.published].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    await q.query(
      `WITH sch AS (${insertScheduled("$1")}),
       del AS (${insertDeliveries("$2")}),
       box AS (${insertOutbox(3)}),
       tr AS (
         INSERT INTO event_traces (seq, event_id, trace_id, span_id, parent_span_id)
         SELECT * FROM unnest($6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[]) ON CONFLICT (seq) DO NOTHING
       )
       INSERT INTO dedup (key, seq, expires_at)
       SELECT k, s, now_ms() + w FROM unnest($11::text[], $12::bigint[], $13::bigint[]) AS t(k, s, w)
       ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, expires_at = excluded.expires_at
       WHERE dedup.expires_at <= now_ms()`,
      [
        scheduledRows(s.later),
        toRecords(s.table.filter((d) => !d.debounce)),
        ...outboxArgs(s.work),
        traced.map((p) => p.seq),
        traced.map((p) => p.entry.event.id),
        traced.map((p) => p.entry.trace!.traceId),
        traced.map((p) => p.entry.trace!.spanId),
        traced.map((p) => p.entry.trace!.parentSpanId ?? null),
        keys.map((p) => p.key),
        keys.map((p) => p.seq),
        keys.map((p) => p.windowMs),
      ],
    );
    this.#scheduled.added(s.later);
    this.#table.touch(s.table.map((d) => d.fn));
  }

  /** Step 3, after the commit: the work messages published; resolves the append's results. */
  async relay(s: StagedAppend): Promise<AppendResult[]> {
    await this.#outbox.relay(s.work);
    const results = s.results;
    for (const [i, j] of s.repeats) results[i] = { status: "duplicate", seq: results[j]!.seq };
    const fns = new Set<string>();
    for (const i of s.fresh) {
      if (results[i]!.status === "accepted") for (const d of s.entries[i]!.deliveries) fns.add(d.fn);
    }
    if (fns.size > 0) this.#appended(fns, new Set(s.table.map((d) => d.fn).filter((fn) => fns.has(fn))));
    return results;
  }

  async read(after: number, limit: number): Promise<StoredEvent[]> {
    const { state } = await this.#jsm.streams.info(this.#o.logStream);
    const from = Math.max(after + 1, state.first_seq);
    const to = Math.min(state.last_seq, from + limit - 1);
    const seqs = Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => from + k);
    return (await this.bySeq(seqs)).filter((e): e is StoredEvent => e !== undefined);
  }

  /** Events by log sequence (undefined where the log no longer has one). */
  async bySeq(seqs: number[]): Promise<(StoredEvent | undefined)[]> {
    const msgs = await Promise.all(
      seqs.map((seq) => this.#jsm.streams.getMessage(this.#o.logStream, { seq }).catch(() => null)),
    );
    return msgs.map((m) => {
      if (!m) return undefined;
      const body = m.json<LogMessage>();
      return { seq: m.seq, receivedAt: body.r, event: body.e };
    });
  }

  /** Removes dedup keys whose window ended long enough ago that JetStream forgot their ids too. */
  async sweep(): Promise<void> {
    await this.#pool.query("DELETE FROM dedup WHERE expires_at < now_ms() - $1::bigint", [
      2 * LOG_DUPLICATE_WINDOW_MS,
    ]);
  }
}

/** A delivery of the table lane, with its flow-control keys. */
function tableDelivery(
  id: string,
  d: NewDelivery,
  seq: number,
  event: CloudEvent,
  now: number,
): TableDelivery {
  const t: TableDelivery = { id, fn: d.fn, eventSeq: seq, event, createdAt: now };
  if (d.dueAt !== undefined) t.dueAt = d.dueAt;
  if (d.groupKey !== undefined) t.groupKey = d.groupKey;
  if (d.priority !== undefined) t.priority = d.priority;
  if (d.cancelKey !== undefined) t.cancelKey = d.cancelKey;
  if (d.batchKey !== undefined) t.batchKey = d.batchKey;
  if (d.debounce) t.debounce = d.debounce;
  return t;
}

/** A dedup key as stored: hashed, since keys hold a NUL (PostgreSQL text cannot) and may be long. */
export function hash(key: string): string {
  return createHash("sha256").update(key).digest("base64url");
}
