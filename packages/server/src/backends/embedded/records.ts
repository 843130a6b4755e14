import type Database from "better-sqlite3";
import type {
  EmissionQuery,
  Emissions,
  InvocationQuery,
  InvocationRecord,
  LeasedDelivery,
  MeteredUsage,
  Records,
  UsageRow,
} from "../types.js";
import type { InvocationRow } from "../invocation-row.js";
import { rowToInvocation } from "../invocation-row.js";
import type { GroupCommit } from "./group-commit.js";

const STORED =
  "id, fn, version, delivery_id, event_id, event_source, event_type, attempt, status, outcome, started_at, duration_ms, error, logs, logs_truncated, skip_reason, batch, trace_id, span_id, parent_span_id, cold_start, memory_mb, billed_ms, result, result_truncated, emits, sends, event_seq";

/** A record's columns as read: a linked attempt's trace id and parent span are its event's. */
const READ = STORED.split(", ")
  .filter((c) => c !== "event_seq")
  .map((c) =>
    c === "trace_id"
      ? "coalesce(i.trace_id, e.trace_id) AS trace_id"
      : c === "parent_span_id"
        ? "coalesce(i.parent_span_id, e.span_id) AS parent_span_id"
        : `i.${c}`,
  )
  .join(", ");
const FROM = "invocations i LEFT JOIN events e ON e.seq = i.event_seq";

/**
 * Invocation records on SQLite. An attempt whose span is a child of its event's (every attempt of
 * a delivery, when tracing is on) stores its event's seq instead of the trace id and parent span,
 * which the event's row holds: 48 bytes of hex fewer per attempt, and an index on a small integer
 * instead of a 32-character trace id.
 */
export class EmbeddedRecords implements Records {
  readonly #db: Database.Database;
  readonly #wq: GroupCommit;
  readonly #usage: Database.Statement;
  readonly #meter: Database.Statement;
  readonly #pruneMetered: Database.Statement;
  readonly #pruneRecords: Database.Statement;
  readonly #pruneLogs: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #insertNew: Database.Statement;
  readonly #get: Database.Statement;
  readonly #emitting: Database.Statement;
  readonly #emissions: Database.Statement;

  constructor(db: Database.Database, wq: GroupCommit) {
    this.#db = db;
    this.#wq = wq;
    // Skipped attempts did not run: they are not billed.
    this.#usage = db.prepare(
      `SELECT fn, sum(n) AS n, sum(billed) AS billed, sum(mbms) AS mbms FROM (
         SELECT fn, count(*) AS n, sum(billed_ms) AS billed, sum(billed_ms * memory_mb) AS mbms FROM invocations
         WHERE started_at >= @since AND started_at < @until AND status != 'skipped' GROUP BY fn
         UNION ALL
         SELECT fn, sum(invocations), sum(billed_ms), sum(mb_ms) FROM metered_usage
         WHERE minute >= @since AND minute < @until GROUP BY fn
       ) GROUP BY fn ORDER BY fn`,
    );
    this.#meter = db.prepare(
      `INSERT INTO metered_usage (fn, minute, invocations, billed_ms, mb_ms) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (fn, minute) DO UPDATE SET invocations = invocations + excluded.invocations,
         billed_ms = billed_ms + excluded.billed_ms, mb_ms = mb_ms + excluded.mb_ms`,
    );
    this.#pruneMetered = db.prepare("DELETE FROM metered_usage WHERE minute < ?");
    this.#pruneRecords = db.prepare("DELETE FROM invocations WHERE started_at < ?");
    this.#pruneLogs = db.prepare(
      "UPDATE invocations SET logs = '[]', logs_truncated = 1 WHERE started_at < ? AND logs != '[]'",
    );
    const params = STORED.split(",").fill("?").join(",");
    this.#insert = db.prepare(`INSERT OR REPLACE INTO invocations (${STORED}) VALUES (${params})`);
    this.#insertNew = db.prepare(`INSERT OR IGNORE INTO invocations (${STORED}) VALUES (${params})`);
    this.#get = db.prepare(`SELECT ${READ} FROM ${FROM} WHERE i.id = ?`);
    // The records that published something, newest first: the partial index invocations_emitted.
    const emitting = `SELECT fn, emits, sends, started_at FROM invocations
      WHERE started_at >= @since AND (emits IS NOT NULL OR sends IS NOT NULL)
      ORDER BY started_at DESC, id DESC LIMIT @limit`;
    this.#emitting = db.prepare(`SELECT count(*) AS n FROM (${emitting})`);
    this.#emissions = db.prepare(
      `WITH recent AS (${emitting})
       SELECT fn, 'emits' AS kind, j.value AS target, count(*) AS attempts, max(started_at) AS last_at
       FROM recent, json_each(recent.emits) j WHERE recent.emits IS NOT NULL GROUP BY fn, j.value
       UNION ALL
       SELECT fn, 'sends', j.value, count(*), max(started_at)
       FROM recent, json_each(recent.sends) j WHERE recent.sends IS NOT NULL GROUP BY fn, j.value`,
    );
  }

  insert(records: InvocationRecord[]): Promise<void> {
    return this.#wq.run(() => {
      for (const r of records) this.#insertNew.run(...values(r));
    });
  }

  /** Stores the record of an attempt at `delivery`; runs inside a group-commit transaction. */
  insertSync(r: InvocationRecord, delivery?: LeasedDelivery): void {
    this.#insert.run(...values(r, delivery));
  }

  meter(rows: MeteredUsage[]): Promise<void> {
    return this.#wq.run(() => {
      for (const r of rows) this.#meter.run(r.fn, r.minute, r.invocations, r.billedMs, r.mbMs);
    });
  }

  usage(since: number, until: number): Promise<UsageRow[]> {
    const rows = this.#usage.all({ since, until }) as {
      fn: string;
      n: number;
      billed: number | null;
      mbms: number | null;
    }[];
    return Promise.resolve(
      rows.map((r) => ({
        fn: r.fn,
        invocations: r.n,
        billedMs: r.billed ?? 0,
        gbSeconds: (r.mbms ?? 0) / 1024 / 1000,
      })),
    );
  }

  prune(options: { before: number; logsBefore: number }): Promise<{ records: number; logs: number }> {
    return this.#wq.run(() => {
      this.#pruneMetered.run(options.before);
      return {
        records: this.#pruneRecords.run(options.before).changes,
        logs: this.#pruneLogs.run(options.logsBefore).changes,
      };
    });
  }

  emissions(q: EmissionQuery): Promise<Emissions> {
    const { n } = this.#emitting.get({ since: q.since, limit: q.limit + 1 }) as { n: number };
    const rows = this.#emissions.all({ since: q.since, limit: q.limit }) as {
      fn: string;
      kind: "emits" | "sends";
      target: string;
      attempts: number;
      last_at: number;
    }[];
    return Promise.resolve({
      rows: rows.map((r) => ({
        fn: r.fn,
        kind: r.kind,
        target: r.target,
        attempts: r.attempts,
        lastAt: r.last_at,
      })),
      records: Math.min(n, q.limit),
      truncated: n > q.limit,
    });
  }

  getInvocation(id: string): Promise<InvocationRecord | undefined> {
    const row = this.#get.get(id) as InvocationRow | undefined;
    return Promise.resolve(row && rowToInvocation(row));
  }

  queryInvocations(q: InvocationQuery): Promise<InvocationRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    // `sql` has a placeholder per use of `value`.
    const filter = (sql: string, value: unknown) => {
      if (value === undefined) return;
      where.push(sql);
      for (let k = sql.split("?").length - 1; k > 0; k--) args.push(value);
    };
    filter("i.fn = ?", q.fn);
    filter("i.delivery_id = ?", q.deliveryId);
    filter("i.status = ?", q.status);
    filter("i.started_at < ?", q.before);
    filter("i.started_at >= ?", q.since);
    // A trace's attempts: those that store its id, and those linked to one of its events.
    filter("(i.trace_id = ? OR i.event_seq IN (SELECT seq FROM events WHERE trace_id = ?))", q.traceId);
    const sql = `SELECT ${READ} FROM ${FROM} ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY i.started_at DESC, i.id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit) as InvocationRow[];
    return Promise.resolve(rows.map(rowToInvocation));
  }
}

/** The column values of a record, in the order of STORED. */
function values(r: InvocationRecord, delivery?: LeasedDelivery): unknown[] {
  const result = r.result === undefined ? null : JSON.stringify(r.result);
  const linked =
    delivery?.trace !== undefined &&
    r.trace?.traceId === delivery.trace.traceId &&
    r.trace.parentSpanId === delivery.trace.spanId;
  return [
    r.id,
    r.fn,
    r.version,
    r.deliveryId,
    r.eventId,
    r.eventSource,
    r.eventType,
    r.attempt,
    r.status,
    r.outcome,
    r.startedAt,
    r.durationMs,
    r.error ? JSON.stringify(r.error) : null,
    JSON.stringify(r.logs),
    r.logsTruncated ? 1 : 0,
    r.skipReason ?? null,
    r.batch ? JSON.stringify(r.batch) : null,
    linked ? null : (r.trace?.traceId ?? null),
    r.trace?.spanId ?? null,
    linked ? null : (r.trace?.parentSpanId ?? null),
    r.coldStart ? 1 : 0,
    r.memoryMb ?? null,
    r.billedMs ?? null,
    result,
    r.resultTruncated ? 1 : 0,
    r.emits ? JSON.stringify(r.emits) : null,
    r.sends ? JSON.stringify(r.sends) : null,
    linked ? delivery.eventSeq : null,
  ];
}
