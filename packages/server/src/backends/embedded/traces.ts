import type Database from "better-sqlite3";
import type { StoredEvent, TraceIds, TraceLookups } from "../types.js";
import { shown } from "./log.js";

/** How far back (in events) a trace is looked for by event id alone. */
const RECENT_EVENTS = 200_000;

/** Tracing lookups on SQLite: the events' own trace columns, and the dedup keys for `source` + `id`. */
export class EmbeddedTraces implements TraceLookups {
  readonly #byTrace: Database.Statement;
  readonly #traceOf: Database.Statement;
  readonly #traceByKey: Database.Statement;

  constructor(db: Database.Database) {
    this.#byTrace = db.prepare(
      "SELECT seq, received_at, body, span_id, parent_span_id FROM events WHERE trace_id = ? ORDER BY seq LIMIT ?",
    );
    // Without an index on event ids: the newest matching event among the last RECENT_EVENTS.
    this.#traceOf = db
      .prepare(
        `SELECT trace_id FROM events WHERE id = ? AND trace_id IS NOT NULL
         AND seq > (SELECT coalesce(max(seq), 0) FROM events) - ${RECENT_EVENTS} ORDER BY seq DESC LIMIT 1`,
      )
      .pluck();
    this.#traceByKey = db
      .prepare("SELECT e.trace_id FROM dedup d JOIN events e ON e.seq = d.seq WHERE d.key = ?")
      .pluck();
  }

  byTrace(traceId: string, limit: number): Promise<(StoredEvent & { trace: TraceIds })[]> {
    const rows = this.#byTrace.all(traceId, limit) as {
      seq: number;
      received_at: number;
      body: string;
      span_id: string;
      parent_span_id: string | null;
    }[];
    return Promise.resolve(
      rows.map((r) => ({
        seq: r.seq,
        receivedAt: r.received_at,
        event: shown({ body: r.body, trace_id: traceId, span_id: r.span_id }),
        trace: {
          traceId,
          spanId: r.span_id,
          ...(r.parent_span_id ? { parentSpanId: r.parent_span_id } : {}),
        },
      })),
    );
  }

  traceOf(eventId: string, source?: string): Promise<string | undefined> {
    const byKey =
      source !== undefined ? (this.#traceByKey.get(`${source}\u0000${eventId}`) as string | null) : null;
    return Promise.resolve(byKey ?? (this.#traceOf.get(eventId) as string | undefined) ?? undefined);
  }
}
