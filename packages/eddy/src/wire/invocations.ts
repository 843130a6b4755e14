import type { ErrorView } from "./problem.js";

/** One line a function logged with `ctx.log` (or `console.*`). */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  /** Epoch ms. */
  time: number;
  msg: string;
  fields?: Record<string, unknown>;
}

/** Where an event or an attempt sits in its trace (W3C trace context ids, lower-case hex). */
export interface TraceIds {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** The record of one attempt: `GET /v1/invocations`, `GET /v1/invocations/ID`. */
export interface Invocation {
  id: string;
  fn: string;
  version: string;
  deliveryId: string;
  eventId: string;
  eventSource: string;
  eventType: string;
  attempt: number;
  /** "skipped": not run, see `skipReason` (an idempotency key already succeeded, a rate limit). */
  status: "succeeded" | "failed" | "skipped";
  skipReason?: string;
  /** A batch attempt: every delivery and event it carried, and which the handler reported failed. */
  batch?: { deliveryId: string; eventId: string; failed?: boolean }[];
  /** What the engine did next: done, retry later, or park in the dead-letter queue. */
  outcome: "ack" | "retry" | "dead";
  startedAt: number;
  durationMs: number;
  error?: ErrorView;
  logs: LogLine[];
  /** True when log lines were dropped to keep the record bounded. */
  logsTruncated?: boolean;
  trace?: TraceIds;
  /** The attempt started a sandbox. */
  coldStart?: boolean;
  memoryMb?: number;
  billedMs?: number;
  /** What the handler returned, as JSON (at most 256 KiB; beyond, left out and `resultTruncated`). */
  result?: unknown;
  resultTruncated?: boolean;
  /** A succeeded attempt's published events: their types, each once (at most 32). */
  emits?: string[];
  /** A succeeded attempt's queue messages: the queues, each once (at most 32). */
  sends?: string[];
}

/** Parameters of `GET /v1/invocations`. */
export interface InvocationsParams {
  function?: string;
  status?: "succeeded" | "failed";
  /** 1-1000, default 50. */
  limit?: number;
  /** Only attempts started before this time (epoch ms): the next page. */
  before?: number;
}

/** `GET /v1/invocations` answer, newest first. */
export interface InvocationsResponse {
  invocations: Invocation[];
}

/** A stored HTTP response, as a status document shows it. */
export interface HttpResponseView {
  status: number;
  headers: Record<string, string>;
  /** A JSON body parsed; any other text as is; binary bodies base64 (see `bodyEncoding`). */
  body?: unknown;
  bodyEncoding?: "base64";
}

/**
 * `GET /v1/invocations/ID` for the id of an async gateway request (and what its callback
 * receives): where the request stands.
 */
export interface AsyncRequestStatus {
  id: string;
  function: string;
  route: string;
  /** "skipped": settled without running (the function's rateLimit or idempotencyKey), see `reason`. */
  status: "pending" | "succeeded" | "failed" | "skipped";
  createdAt: number;
  updatedAt: number;
  attempts: number;
  invocationId?: string;
  reason?: string;
  result?: HttpResponseView;
  resultTruncated?: boolean;
  error?: { name: string; message: string; code?: string };
}

/** `GET /v1/invocations/ID/logs` answer. */
export interface InvocationLogs {
  invocationId: string;
  fn: string;
  attempt: number;
  logs: LogLine[];
  logsTruncated: boolean;
}
