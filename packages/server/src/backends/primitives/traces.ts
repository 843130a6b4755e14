/**
 * Tracing lookups: which events belong to a trace, and which trace an event belongs to. The
 * attempts of a trace are invocation records (`records.queryInvocations({ traceId })`).
 */
import type { TraceIds } from "eddy";
import type { StoredEvent } from "./log.js";

/** Where an event or an attempt sits in its trace (W3C trace context ids, lower-case hex). */
export type { TraceIds };

/** Tracing lookups over the event log. Contract: contract/traces.ts. */
export interface TraceLookups {
  /** Every event of a trace, oldest first, with its span. */
  byTrace(traceId: string, limit: number): Promise<(StoredEvent & { trace: TraceIds })[]>;
  /**
   * The trace of an event: by `source` + `id` within the dedup window, else by id among recent
   * events (the newest such event if several sources used the id).
   */
  traceOf(eventId: string, source?: string): Promise<string | undefined>;
}
