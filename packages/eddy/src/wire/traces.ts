/** One node of a trace: an event (its ingest) or an attempt, with what it caused. */
export interface TraceNode {
  kind: "event" | "invocation";
  spanId: string;
  parentSpanId?: string;
  /** Event type, or function name. */
  name: string;
  /** Epoch ms. */
  start: number;
  durationMs: number;
  /** The event's id, or the invocation's. */
  id: string;
  /** Invocation: succeeded | failed | skipped, with attempt and outcome. */
  status?: string;
  attempt?: number;
  outcome?: string;
  coldStart?: boolean;
  error?: string;
  /** Event: its source. */
  source?: string;
  children: TraceNode[];
}

/** `GET /v1/traces/TRACE_ID`: a whole trace (`GET /v1/traces?eventId=` redirects here). */
export interface TraceView {
  traceId: string;
  /** From the first event's acceptance to the end of the last attempt. */
  durationMs: number;
  events: number;
  invocations: number;
  roots: TraceNode[];
}

/** Parameters of `GET /v1/traces`: finds an event's trace (answers 303 to `/v1/traces/TRACE_ID`). */
export interface TraceLookupParams {
  eventId: string;
  /** Picks among events of several sources with this id. */
  source?: string;
}
