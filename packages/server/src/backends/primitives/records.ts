/** Queryable records: the record of every attempt, and metering (usage per function). */
import type { TraceIds } from "./traces.js";

/** A serialized error, as recorded on invocations and dead letters. */
export interface ErrorInfo {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

/** One line a function logged with `ctx.log`. */
export interface LogLine {
  level: "debug" | "info" | "warn" | "error";
  time: number;
  msg: string;
  fields?: Record<string, unknown>;
}

/** The record of one attempt. */
export interface InvocationRecord {
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
  /**
   * For a batch attempt: every delivery and event it carried (deliveryId/eventId are the first's),
   * and which ones the handler reported as failed (batchItemFailures).
   */
  batch?: { deliveryId: string; eventId: string; failed?: boolean }[];
  /** What the engine did next: done, retry later, or park in the dead-letter queue. */
  outcome: "ack" | "retry" | "dead";
  startedAt: number;
  durationMs: number;
  error?: ErrorInfo;
  logs: LogLine[];
  /** True when log lines were dropped to keep the record bounded. */
  logsTruncated?: boolean;
  /** The attempt's span: its parent is the span of the event that triggered it. */
  trace?: TraceIds;
  /** The attempt started a sandbox (a cold start). */
  coldStart?: boolean;
  /** Metering: the function's memory and the billed duration (duration rounded up to 1 ms). */
  memoryMb?: number;
  billedMs?: number;
  /**
   * What the handler returned, as JSON (an HTTP function's response: status, headers, body). At
   * most {@link MAX_RESULT_BYTES} of JSON: a larger result is left out and `resultTruncated` set.
   */
  result?: unknown;
  resultTruncated?: boolean;
}

/** Largest `result` kept on an invocation record, in bytes of JSON. */
export const MAX_RESULT_BYTES = 256 * 1024;

/** Query over invocation records. */
export interface InvocationQuery {
  fn?: string;
  deliveryId?: string;
  status?: InvocationRecord["status"];
  /** Only records that started before this time (paging). */
  before?: number;
  /** Only records that started at or after this time. */
  since?: number;
  traceId?: string;
  limit: number;
}

/** Usage of one function over a period, from its invocation records. */
export interface UsageRow {
  fn: string;
  invocations: number;
  billedMs: number;
  /** Σ billed seconds × memory GB. */
  gbSeconds: number;
}

/**
 * Usage of attempts that keep no record (successful synchronous HTTP requests), added up per
 * function and minute: what metering needs of them without a durable write per request.
 */
export interface MeteredUsage {
  fn: string;
  /** Start of the minute (epoch ms) the requests started in. */
  minute: number;
  invocations: number;
  billedMs: number;
  /** Σ billed ms × memory MB. */
  mbMs: number;
}

/** Queryable records: invocations and metering. Contract: contract/records.ts. */
export interface Records {
  /**
   * Stores records of attempts that settle no delivery (synchronous HTTP requests); resolves once
   * they are written. A record with an id already stored is left as it was.
   */
  insert(records: InvocationRecord[]): Promise<void>;
  getInvocation(id: string): Promise<InvocationRecord | undefined>;
  /** Newest first. */
  queryInvocations(query: InvocationQuery): Promise<InvocationRecord[]>;
  /** Adds usage to the per-minute totals of requests without records (see {@link MeteredUsage}). */
  meter(rows: MeteredUsage[]): Promise<void>;
  /**
   * Metered usage per function of the invocations started in [since, until): their records, and
   * the metered minutes that start in it.
   */
  usage(since: number, until: number): Promise<UsageRow[]>;
  /**
   * Retention: drops the logs of records older than `logsBefore`, and records (and metered
   * minutes) older than `before`.
   */
  prune(options: { before: number; logsBefore: number }): Promise<{ records: number; logs: number }>;
}
