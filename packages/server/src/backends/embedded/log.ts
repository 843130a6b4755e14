import type Database from "better-sqlite3";
import type { Clock } from "../../clock/clock.js";
import type { CloudEvent } from "eddy";
import type { AppendEntry, AppendResult, EventLog, NewDelivery, StoredEvent, TraceIds } from "../types.js";
import { withTraceparent } from "../../observability/trace-context.js";
import type { GroupCommit } from "./group-commit.js";

/** The event log on SQLite: `events` rows, `dedup` keys with expiry, and the routed `deliveries`. */
export class EmbeddedLog implements EventLog {
  readonly #wq: GroupCommit;
  readonly #insertEvent: Database.Statement;
  readonly #getDedup: Database.Statement;
  readonly #putDedup: Database.Statement;
  readonly #insertDelivery: Database.Statement;
  readonly #findDebounced: Database.Statement;
  readonly #debounce: Database.Statement;
  readonly #read: Database.Statement;
  readonly #getEvent: Database.Statement;
  readonly #clock: Clock;

  constructor(db: Database.Database, wq: GroupCommit, clock: Clock) {
    this.#wq = wq;
    this.#clock = clock;
    this.#insertEvent = db.prepare(
      `INSERT INTO events (id, source, type, received_at, body, trace_id, span_id, parent_span_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#getDedup = db.prepare("SELECT seq, expires_at FROM dedup WHERE key = ?");
    this.#putDedup = db.prepare(
      "INSERT INTO dedup (key, seq, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET seq = excluded.seq, expires_at = excluded.expires_at",
    );
    this.#insertDelivery = db.prepare(
      `INSERT INTO deliveries (fn, event_seq, due_at, created_at, group_key, priority, cancel_key, batch_key, debounce_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#findDebounced = db.prepare(
      "SELECT id, created_at FROM deliveries WHERE fn = ? AND debounce_key = ? AND state = 0 LIMIT 1",
    );
    this.#debounce = db.prepare("UPDATE deliveries SET event_seq = ?, due_at = ? WHERE id = ?");
    this.#read = db.prepare(
      "SELECT seq, received_at, body, trace_id, span_id FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
    );
    this.#getEvent = db.prepare("SELECT body, trace_id, span_id FROM events WHERE seq = ?");
  }

  append(entries: AppendEntry[], options: { dedupWindowMs: number }): Promise<AppendResult[]> {
    return this.#wq.run(() => this.appendSync(entries, this.#clock.now(), options.dedupWindowMs));
  }

  /** The append itself; runs inside a group-commit transaction (also from `settle`, for emits). */
  appendSync(entries: AppendEntry[], now: number, dedupWindowMs: number): AppendResult[] {
    const results: AppendResult[] = [];
    for (const entry of entries) {
      const window = entry.dedupWindowMs ?? dedupWindowMs;
      const seen = this.#getDedup.get(entry.dedupKey) as { seq: number; expires_at: number } | undefined;
      if (seen && seen.expires_at > now) {
        results.push({ status: "duplicate", seq: seen.seq });
        continue;
      }
      const e = entry.event;
      const seq = Number(
        this.#insertEvent.run(
          e.id,
          e.source,
          e.type,
          now,
          JSON.stringify(e),
          entry.trace?.traceId ?? null,
          entry.trace?.spanId ?? null,
          entry.trace?.parentSpanId ?? null,
        ).lastInsertRowid,
      );
      this.#putDedup.run(entry.dedupKey, seq, now + window);
      for (const d of entry.deliveries) this.#enqueue(d, seq, now);
      results.push({ status: "accepted", seq });
    }
    return results;
  }

  #enqueue(d: NewDelivery, seq: number, now: number): void {
    let dueAt = d.dueAt ?? now;
    if (d.debounce) {
      const { key, periodMs, maxWaitMs } = d.debounce;
      const queued = this.#findDebounced.get(d.fn, key) as { id: number; created_at: number } | undefined;
      if (queued) {
        this.#debounce.run(seq, Math.min(now + periodMs, queued.created_at + maxWaitMs), queued.id);
        return;
      }
      dueAt = now + Math.min(periodMs, maxWaitMs);
    }
    this.#insertDelivery.run(
      d.fn,
      seq,
      dueAt,
      now,
      d.groupKey ?? null,
      d.priority ?? 0,
      d.cancelKey ?? null,
      d.batchKey ?? null,
      d.debounce?.key ?? null,
    );
  }

  read(after: number, limit: number): Promise<StoredEvent[]> {
    const rows = this.#read.all(after, limit) as (EventRow & { seq: number; received_at: number })[];
    return Promise.resolve(rows.map((r) => ({ seq: r.seq, receivedAt: r.received_at, event: shown(r) })));
  }

  /** The event of `seq` as shown (its span as its `traceparent`): dead letters. */
  eventSync(seq: number): CloudEvent {
    return shown(this.#row(seq));
  }

  /** The event of `seq` and its span, apart: what a lease hands out (and cancellations read). */
  deliverySync(seq: number): { event: CloudEvent; trace?: TraceIds } {
    const r = this.#row(seq);
    const event = JSON.parse(r.body) as CloudEvent;
    return r.trace_id === null ? { event } : { event, trace: { traceId: r.trace_id, spanId: r.span_id! } };
  }

  #row(seq: number): EventRow {
    const r = this.#getEvent.get(seq) as EventRow | undefined;
    if (r === undefined) throw new Error(`[embedded] event ${seq} is referenced but missing`);
    return r;
  }
}

/** An event's row: its body and span. */
export interface EventRow {
  body: string;
  trace_id: string | null;
  span_id: string | null;
}

/** An event as read back: its span, if it has one, as its `traceparent`. */
export function shown(r: EventRow): CloudEvent {
  const event = JSON.parse(r.body) as CloudEvent;
  return r.trace_id === null ? event : withTraceparent(event, { traceId: r.trace_id, spanId: r.span_id! });
}
