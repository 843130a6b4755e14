import type { ErrorInfo, InvocationRecord, LogLine } from "./types.js";

/**
 * An invocation record as a SQL row (snake_case columns, JSON text, flags as 0/1 or booleans):
 * the shape both the embedded (SQLite) and the cluster (PostgreSQL) backends store.
 */
export interface InvocationRow {
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
  logs_truncated: number | boolean;
  skip_reason: string | null;
  batch: string | null;
  trace_id: string | null;
  span_id: string | null;
  parent_span_id: string | null;
  cold_start: number | boolean;
  memory_mb: number | null;
  billed_ms: number | null;
  result: string | null;
  result_truncated: number | boolean;
  /** JSON arrays of the event types and queues a succeeded attempt published. */
  emits: string | null;
  sends: string | null;
}

/** Reads an {@link InvocationRow} back into the record the engine and the API use. */
export function rowToInvocation(r: InvocationRow): InvocationRecord {
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
  if (r.trace_id !== null && r.span_id !== null) {
    rec.trace = {
      traceId: r.trace_id,
      spanId: r.span_id,
      ...(r.parent_span_id ? { parentSpanId: r.parent_span_id } : {}),
    };
  }
  if (r.cold_start) rec.coldStart = true;
  if (r.memory_mb !== null) rec.memoryMb = r.memory_mb;
  if (r.billed_ms !== null) rec.billedMs = r.billed_ms;
  if (r.result !== null) rec.result = JSON.parse(r.result) as unknown;
  if (r.result_truncated) rec.resultTruncated = true;
  if (r.emits !== null) rec.emits = JSON.parse(r.emits) as string[];
  if (r.sends !== null) rec.sends = JSON.parse(r.sends) as string[];
  return rec;
}
