import type pg from "pg";
import type {
  EmissionQuery,
  Emissions,
  InvocationQuery,
  InvocationRecord,
  InvocationRow,
  MeteredUsage,
  Records,
  UsageRow,
} from "@eddy/server";
import { rowToInvocation } from "@eddy/server";
import type { SettleWriter } from "./settle-writer.js";

/** An `invocations` row; the keys are the column names (see `toRow`, used with json_populate_recordset). */

const COLUMNS =
  "id, fn, version, delivery_id, event_id, event_source, event_type, attempt, status, outcome, started_at, duration_ms, error, logs, logs_truncated, skip_reason, batch, trace_id, span_id, parent_span_id, cold_start, memory_mb, billed_ms, result, result_truncated, emits, sends";

/**
 * Invocation records in PostgreSQL; they are written by the queue's settle and by `insert`, both
 * through the settle writer's group commit (see settle-writer.ts).
 */
export class ClusterRecords implements Records {
  readonly #pool: pg.Pool;
  readonly #writer: SettleWriter;

  constructor(pool: pg.Pool, writer: SettleWriter) {
    this.#pool = pool;
    this.#writer = writer;
  }

  async insert(records: InvocationRecord[]): Promise<void> {
    await Promise.all(records.map((invocation) => this.#writer.write({ invocation })));
  }

  async getInvocation(id: string): Promise<InvocationRecord | undefined> {
    const { rows } = await this.#pool.query<InvocationRow>(
      `SELECT ${COLUMNS} FROM invocations WHERE id = $1`,
      [id],
    );
    return rows[0] && rowToInvocation(rows[0]);
  }

  async queryInvocations(q: InvocationQuery): Promise<InvocationRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const filter = (column: string, value: unknown) => {
      if (value === undefined) return;
      args.push(value);
      where.push(`${column} $${args.length}`);
    };
    filter("fn =", q.fn);
    filter("delivery_id =", q.deliveryId);
    filter("status =", q.status);
    filter("started_at <", q.before);
    filter("started_at >=", q.since);
    filter("trace_id =", q.traceId);
    args.push(q.limit);
    const { rows } = await this.#pool.query<InvocationRow>(
      `SELECT ${COLUMNS} FROM invocations ${where.length ? "WHERE " + where.join(" AND ") : ""}
       ORDER BY started_at DESC, id DESC LIMIT $${args.length}`,
      args,
    );
    return rows.map(rowToInvocation);
  }

  async emissions(q: EmissionQuery): Promise<Emissions> {
    // The records that published something, newest first: the partial index invocations_emitted.
    const emitting = `SELECT fn, emits, sends, started_at FROM invocations
      WHERE started_at >= $1 AND (emits IS NOT NULL OR sends IS NOT NULL)
      ORDER BY started_at DESC, id DESC LIMIT $2`;
    const counted = await this.#pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM (${emitting}) r`, [
      q.since,
      q.limit + 1,
    ]);
    const { rows } = await this.#pool.query<{
      fn: string;
      kind: "emits" | "sends";
      target: string;
      attempts: number;
      last_at: string;
    }>(
      `WITH recent AS (${emitting})
       SELECT fn, 'emits' AS kind, t AS target, count(*)::int AS attempts, max(started_at) AS last_at
       FROM recent, jsonb_array_elements_text(recent.emits::jsonb) t WHERE recent.emits IS NOT NULL GROUP BY fn, t
       UNION ALL
       SELECT fn, 'sends', t, count(*)::int, max(started_at)
       FROM recent, jsonb_array_elements_text(recent.sends::jsonb) t WHERE recent.sends IS NOT NULL GROUP BY fn, t`,
      [q.since, q.limit],
    );
    const n = counted.rows[0]?.n ?? 0;
    return {
      rows: rows.map((r) => ({
        fn: r.fn,
        kind: r.kind,
        target: r.target,
        attempts: r.attempts,
        lastAt: Number(r.last_at),
      })),
      records: Math.min(n, q.limit),
      truncated: n > q.limit,
    };
  }

  async meter(rows: MeteredUsage[]): Promise<void> {
    if (rows.length === 0) return;
    await this.#pool.query(
      `INSERT INTO metered_usage (fn, minute, invocations, billed_ms, mb_ms)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[])
       ON CONFLICT (fn, minute) DO UPDATE SET invocations = metered_usage.invocations + excluded.invocations,
         billed_ms = metered_usage.billed_ms + excluded.billed_ms, mb_ms = metered_usage.mb_ms + excluded.mb_ms`,
      [
        rows.map((r) => r.fn),
        rows.map((r) => r.minute),
        rows.map((r) => r.invocations),
        rows.map((r) => r.billedMs),
        rows.map((r) => r.mbMs),
      ],
    );
  }

  async usage(since: number, until: number): Promise<UsageRow[]> {
    const { rows } = await this.#pool.query<{
      fn: string;
      n: number;
      billed: number | null;
      mbms: number | null;
    }>(
      `SELECT fn, sum(n)::int AS n, sum(billed)::bigint AS billed, sum(mbms)::bigint AS mbms FROM (
         SELECT fn, count(*) AS n, sum(billed_ms) AS billed, sum(billed_ms::bigint * memory_mb) AS mbms
         FROM invocations WHERE started_at >= $1 AND started_at < $2 AND status <> 'skipped' GROUP BY fn
         UNION ALL
         SELECT fn, sum(invocations), sum(billed_ms), sum(mb_ms) FROM metered_usage
         WHERE minute >= $1 AND minute < $2 GROUP BY fn
       ) u GROUP BY fn ORDER BY fn`,
      [since, until],
    );
    return rows.map((r) => ({
      fn: r.fn,
      invocations: r.n,
      billedMs: r.billed ?? 0,
      gbSeconds: (r.mbms ?? 0) / 1024 / 1000,
    }));
  }

  async prune(options: { before: number; logsBefore: number }): Promise<{ records: number; logs: number }> {
    await this.#pool.query("DELETE FROM metered_usage WHERE minute < $1", [options.before]);
    const records = await this.#pool.query("DELETE FROM invocations WHERE started_at < $1", [options.before]);
    const logs = await this.#pool.query(
      "UPDATE invocations SET logs = '[]', logs_truncated = true WHERE started_at < $1 AND logs <> '[]'",
      [options.logsBefore],
    );
    return { records: records.rowCount ?? 0, logs: logs.rowCount ?? 0 };
  }
}

/** The row of a record. */
export function toRow(r: InvocationRecord): InvocationRow {
  return {
    id: r.id,
    fn: r.fn,
    version: r.version,
    delivery_id: r.deliveryId,
    event_id: r.eventId,
    event_source: r.eventSource,
    event_type: r.eventType,
    attempt: r.attempt,
    status: r.status,
    outcome: r.outcome,
    started_at: r.startedAt,
    duration_ms: r.durationMs,
    error: r.error ? JSON.stringify(r.error) : null,
    logs: JSON.stringify(r.logs),
    logs_truncated: r.logsTruncated === true,
    skip_reason: r.skipReason ?? null,
    batch: r.batch ? JSON.stringify(r.batch) : null,
    trace_id: r.trace?.traceId ?? null,
    span_id: r.trace?.spanId ?? null,
    parent_span_id: r.trace?.parentSpanId ?? null,
    cold_start: r.coldStart === true,
    memory_mb: r.memoryMb ?? null,
    billed_ms: r.billedMs ?? null,
    result: r.result === undefined ? null : JSON.stringify(r.result),
    result_truncated: r.resultTruncated === true,
    emits: r.emits ? JSON.stringify(r.emits) : null,
    sends: r.sends ? JSON.stringify(r.sends) : null,
  };
}
