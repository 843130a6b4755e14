import type pg from "pg";
import type { StoredEvent, TraceIds, TraceLookups } from "@eddy/server";
import type { ClusterLog } from "./log.js";
import { hash } from "./log.js";

/**
 * Tracing lookups of the cluster: spans in PostgreSQL's `event_traces` (written by the append),
 * events from the JetStream log. `traceOf` with a source goes through the dedup key, as the
 * embedded store's does, so that two sources using one event id each find their own trace.
 */
export class ClusterTraces implements TraceLookups {
  readonly #pool: pg.Pool;
  readonly #log: Pick<ClusterLog, "bySeq">;

  constructor(pool: pg.Pool, log: Pick<ClusterLog, "bySeq">) {
    this.#pool = pool;
    this.#log = log;
  }

  async byTrace(traceId: string, limit: number): Promise<(StoredEvent & { trace: TraceIds })[]> {
    const { rows } = await this.#pool.query<{ seq: number; span_id: string; parent_span_id: string | null }>(
      "SELECT seq, span_id, parent_span_id FROM event_traces WHERE trace_id = $1 ORDER BY seq LIMIT $2",
      [traceId, limit],
    );
    const events = await this.#log.bySeq(rows.map((r) => r.seq));
    return rows.flatMap((r, k) => {
      const e = events[k];
      if (!e) return [];
      const trace: TraceIds = { traceId, spanId: r.span_id };
      if (r.parent_span_id) trace.parentSpanId = r.parent_span_id;
      return [{ ...e, trace }];
    });
  }

  async traceOf(eventId: string, source?: string): Promise<string | undefined> {
    if (source !== undefined) {
      const { rows } = await this.#pool.query<{ trace_id: string }>(
        "SELECT t.trace_id FROM dedup d JOIN event_traces t ON t.seq = d.seq WHERE d.key = $1",
        [hash(`${source}\u0000${eventId}`)],
      );
      if (rows[0]) return rows[0].trace_id;
    }
    const { rows } = await this.#pool.query<{ trace_id: string }>(
      "SELECT trace_id FROM event_traces WHERE event_id = $1 ORDER BY seq DESC LIMIT 1",
      [eventId],
    );
    return rows[0]?.trace_id;
  }
}
