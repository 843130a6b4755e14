import type Database from "better-sqlite3";
import type { ErrorInfo, InvocationQuery, InvocationRecord, LogLine, Records } from "../types.js";

interface InvocationRow {
  id: string;
  fn: string;
  version: string;
  delivery_id: string;
  event_id: string;
  event_source: string;
  event_type: string;
  attempt: number;
  status: InvocationRecord["status"];
  outcome: InvocationRecord["outcome"];
  started_at: number;
  duration_ms: number;
  error: string | null;
  logs: string;
  logs_truncated: number;
  skip_reason: string | null;
  batch: string | null;
}

const COLUMNS =
  "id, fn, version, delivery_id, event_id, event_source, event_type, attempt, status, outcome, started_at, duration_ms, error, logs, logs_truncated, skip_reason, batch";

/** Invocation records on SQLite. */
export class EmbeddedRecords implements Records {
  readonly #db: Database.Database;
  readonly #insert: Database.Statement;
  readonly #get: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    this.#insert = db.prepare(
      `INSERT OR REPLACE INTO invocations (${COLUMNS}) VALUES (${COLUMNS.split(",").fill("?").join(",")})`,
    );
    this.#get = db.prepare(`SELECT ${COLUMNS} FROM invocations WHERE id = ?`);
  }

  /** Stores a record; runs inside a group-commit transaction. */
  insertSync(r: InvocationRecord): void {
    this.#insert.run(
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
    );
  }

  getInvocation(id: string): Promise<InvocationRecord | undefined> {
    const row = this.#get.get(id) as InvocationRow | undefined;
    return Promise.resolve(row && toRecord(row));
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
    const sql = `SELECT ${COLUMNS} FROM invocations ${where.length ? "WHERE " + where.join(" AND ") : ""}
      ORDER BY started_at DESC, id DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...args, q.limit) as InvocationRow[];
    return Promise.resolve(rows.map(toRecord));
  }
}

function toRecord(r: InvocationRow): InvocationRecord {
  const rec: InvocationRecord = {
    id: r.id,
    fn: r.fn,
    version: r.version,
    deliveryId: r.delivery_id,
    eventId: r.event_id,
    eventSource: r.event_source,
    eventType: r.event_type,
    attempt: r.attempt,
    status: r.status,
    outcome: r.outcome,
    startedAt: r.started_at,
    durationMs: r.duration_ms,
    logs: JSON.parse(r.logs) as LogLine[],
  };
  if (r.error) rec.error = JSON.parse(r.error) as ErrorInfo;
  if (r.logs_truncated) rec.logsTruncated = true;
  if (r.skip_reason !== null) rec.skipReason = r.skip_reason;
  if (r.batch !== null) rec.batch = JSON.parse(r.batch) as InvocationRecord["batch"];
  return rec;
}
