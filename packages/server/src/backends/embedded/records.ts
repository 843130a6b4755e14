import type Database from "better-sqlite3";
import type { InvocationQuery, InvocationRecord, Records, UsageRow } from "../types.js";
import type { InvocationRow } from "../invocation-row.js";
import { rowToInvocation } from "../invocation-row.js";
import type { GroupCommit } from "./group-commit.js";

const COLUMNS =
  "id, fn, version, delivery_id, event_id, event_source, event_type, attempt, status, outcome, started_at, duration_ms, error, logs, logs_truncated, skip_reason, batch, trace_id, span_id, parent_span_id, cold_start, memory_mb, billed_ms, result, result_truncated";

/** Invocation records on SQLite. */
export class EmbeddedRecords implements Records {
  readonly #db: Database.Database;
  readonly #wq: GroupCommit;
  readonly #usage: Database.Statement;
  readonly #pruneRecords: Database.Statement;
  readonly #pruneLogs: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #insertNew: Database.Statement;
  readonly #get: Database.Statement;

  constructor(db: Database.Database, wq: GroupCommit) {
    this.#db = db;
    this.#wq = wq;
    // Skipped attempts did not run: they are not billed.
    this.#usage = db.prepare(
      `SELECT fn, count(*) AS n, sum(billed_ms) AS billed, sum(billed_ms * memory_mb) AS mbms FROM invocations
       WHERE started_at >= ? AND started_at < ? AND status != 'skipped' GROUP BY fn ORDER BY fn`,
    );
    this.#pruneRecords = db.prepare("DELETE FROM invocations WHERE started_at < ?");
    this.#pruneLogs = db.prepare(
      "UPDATE invocations SET logs = '[]', logs_truncated = 1 WHERE started_at < ? AND logs != '[]'",
    );
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO invocations (${COLUMNS}) VALUES (${COLUMNS.split(",").fill("?").join(",")})`,
    );
    this.#insertNew = db.prepare(
      `INSERT OR IGNORE INTO invocations (${COLUMNS}) VALUES (${COLUMNS.split(",").fill("?").join(",")})`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM invocations WHERE id = ?`);
  }

  insert(records: InvocationRecord[]): Promise<void> {
    return this.#wq.run(() => {
      for (const r of records) this.#insertNew.run(...values(r));
    });
  }

  /** Stores a record; runs inside a group-commit transaction. */
  insertSync(r: InvocationRecord): void {
    this.#insert.run(...values(r));
  }

  usage(since: number, until: number): Promise<UsageRow[]> {
    const rows = this.#usage.all(since, until) as {
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
    return this.#wq.run(() => ({
      records: this.#pruneRecords.run(options.before).changes,
      logs: this.#pruneLogs.run(options.logsBefore).changes,
    }));
  }

  getInvocation(id: string): Promise<InvocationRecord | undefined> {
    const row = this.#get.get(id) as InvocationRow | undefined;
    return Promise.resolve(row && rowToInvocation(row));
  }

  queryInvocations(q: InvocationQuery): Promise<InvocationRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const filter = (sql: string, value: unknown) => {
      if (value === undefined) return;
      where.push(sql);
      args.push(value);
    };
    filter("fn = ?", q.fn);
    filter("delivery_id = ?", q.deliveryId);
    filter("status = ?", q.status);
    filter("started_at < ?", q.before);
    filter("started_at >= ?", q.since);
    filter("trace_id = ?", q.traceId);
    const sql = `SELECT ${COLUMNS} FROM invocations ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY started_at DESC, id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit) as InvocationRow[];
    return Promise.resolve(rows.map(rowToInvocation));
  }
}

/** The column values of a record, in the order of COLUMNS. */
function values(r: InvocationRecord): unknown[] {
  const result = r.result === undefined ? null : JSON.stringify(r.result);
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
    r.trace?.traceId ?? null,
    r.trace?.spanId ?? null,
    r.trace?.parentSpanId ?? null,
    r.coldStart ? 1 : 0,
    r.memoryMb ?? null,
    r.billedMs ?? null,
    result,
    r.resultTruncated ? 1 : 0,
  ];
}
