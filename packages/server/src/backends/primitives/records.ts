/** Queryable records: the record of every attempt, and metering (usage per function). */
import type { ErrorView, Invocation, LogLine } from "eddy";

/** A serialized error, as recorded on invocations and dead letters. */
export type ErrorInfo = ErrorView;

/** One line a function logged with `ctx.log`. */
export type { LogLine };

/**
 * The record of one attempt, as the API shows it (`result` is at most {@link MAX_RESULT_BYTES} of
 * JSON: a larger one is left out and `resultTruncated` set).
 */
export type InvocationRecord = Invocation;

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

/** Query of {@link Records.emissions}. */
export interface EmissionQuery {
  /** Only attempts started at or after this time. */
  since: number;
  /** Most records read, newest first. */
  limit: number;
}

/** What the attempts of one function published to one event type (`emits`) or queue (`sends`). */
export interface EmissionRow {
  fn: string;
  kind: "emits" | "sends";
  /** The event type or the queue name. */
  target: string;
  /** How many of the records read list it. */
  attempts: number;
  /** The newest such attempt's start, epoch ms. */
  lastAt: number;
}

/** Answer of {@link Records.emissions}. */
export interface Emissions {
  /** In no particular order. */
  rows: EmissionRow[];
  /** Records read (at most the query's limit). */
  records: number;
  /** More records in the window listed emits or sends than the limit let be read. */
  truncated: boolean;
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
  /**
   * What attempts published, for the choreography map: among the records started at or after
   * `since` that list `emits` or `sends`, the newest `limit` (by start, then id), added up per
   * function and event type or queue. Records without either are not read, so the cost is bounded
   * by `limit` whatever else ran in the window.
   */
  emissions(query: EmissionQuery): Promise<Emissions>;
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
