/**
 * The backend primitives the engine runs on: an append-only event log, a delivery queue with
 * lease / ack / retry-at / dead-letter, a key-value store with compare-and-set and TTL, and
 * queryable invocation records.
 *
 * The engine only ever talks to these interfaces; `embedded` (SQLite) and `cluster` (NATS JetStream +
 * PostgreSQL) implement them, and `describeBackendContract` checks that both keep the same promises.
 *
 * Two operations span primitives on purpose, because the delivery contract needs them atomic (or,
 * where a backend cannot make them atomic, idempotent and ordered so that a crash in between only
 * repeats work):
 * - `log.append` stores an event together with the deliveries routed from it, so that an
 *   acknowledged event can never exist without its deliveries;
 * - `queue.settle` records the outcome of an attempt together with its invocation record and the
 *   events the attempt emitted, so that a failed attempt never publishes and a successful one never
 *   loses its emits.
 */
import type { CloudEvent } from "eddy";

/** An event to append, with the names of the functions it was routed to. */
export interface AppendEntry {
  event: CloudEvent;
  /** `source` + `id`: a repeat inside the dedup window stores nothing and is reported `duplicate`. */
  dedupKey: string;
  /** One delivery is enqueued per function name. */
  deliveries: string[];
}

/** What became of one {@link AppendEntry}. */
export type AppendResult = { status: "accepted"; seq: number } | { status: "duplicate"; seq: number };

/** An event as stored in the log. */
export interface StoredEvent {
  seq: number;
  receivedAt: number;
  event: CloudEvent;
}

/** The append-only event log. */
export interface EventLog {
  /**
   * Appends events and enqueues their deliveries. Resolves only once everything is durable; the
   * result at index i belongs to entry i. Entries with the same dedup key in one call: the first wins.
   */
  append(entries: AppendEntry[], options: { dedupWindowMs: number }): Promise<AppendResult[]>;
  /** Events with `seq > after`, oldest first. */
  read(after: number, limit: number): Promise<StoredEvent[]>;
}

/** A delivery handed to one consumer until `leaseUntil`, after which it is handed out again. */
export interface LeasedDelivery {
  id: string;
  fn: string;
  /** 1 for the first attempt; counts every lease, so a crash mid-attempt uses one up. */
  attempt: number;
  event: CloudEvent;
  eventSeq: number;
  createdAt: number;
  leaseToken: string;
  leaseUntil: number;
}

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
  status: "succeeded" | "failed";
  /** What the engine did next: done, retry later, or park in the dead-letter queue. */
  outcome: "ack" | "retry" | "dead";
  startedAt: number;
  durationMs: number;
  error?: ErrorInfo;
  logs: LogLine[];
  /** True when log lines were dropped to keep the record bounded. */
  logsTruncated?: boolean;
}

/** How an attempt ends for its delivery. */
export type Settlement =
  { kind: "ack" } | { kind: "retry"; dueAt: number; error: ErrorInfo } | { kind: "dead"; error: ErrorInfo };

/** A delivery parked in a function's dead-letter queue. */
export interface DeadLetter {
  id: string;
  fn: string;
  event: CloudEvent;
  attempts: number;
  createdAt: number;
  deadAt: number;
  error: ErrorInfo;
}

/** Per-function delivery counts. */
export interface QueueCounts {
  ready: number;
  leased: number;
  dead: number;
}

/** The delivery queue: one entry per (event, function). */
export interface DeliveryQueue {
  /** Leases up to `max` deliveries of `fn` that are due (or whose lease expired), oldest due first. */
  lease(fn: string, max: number, leaseMs: number): Promise<LeasedDelivery[]>;
  /**
   * Ends an attempt: ack (delete), retry at `dueAt`, or dead-letter; stores `invocation` and appends
   * `emit` (only sensible with ack) in the same durable write. Resolves false, changing nothing,
   * when the lease was lost (expired and handed to someone else).
   */
  settle(
    lease: LeasedDelivery,
    settlement: Settlement,
    extra: { invocation: InvocationRecord; emit?: AppendEntry[]; dedupWindowMs: number },
  ): Promise<{ settled: boolean; emitted: AppendResult[] }>;
  /**
   * Gives leases back unused (leased ahead, never started): the deliveries are due again at once
   * and the lease does not count as an attempt. Leases no longer held are ignored.
   */
  release(leases: LeasedDelivery[]): Promise<void>;
  /** Earliest time a delivery of `fn` becomes leasable (due, or its lease expires); undefined if none. */
  nextDueAt(fn: string): Promise<number | undefined>;
  counts(fn: string): Promise<QueueCounts>;
  /** Dead letters of `fn`, oldest first. */
  listDead(fn: string, limit: number): Promise<DeadLetter[]>;
}

/** A stored value with its version, for compare-and-set. */
export interface KvEntry {
  value: unknown;
  version: number;
  expiresAt: number | undefined;
}

/** Key-value store with compare-and-set and TTL, keys scoped by namespace. */
export interface KeyValue {
  get(ns: string, key: string): Promise<KvEntry | undefined>;
  /**
   * Writes `value`. With `ifVersion`, only if the current version equals it (0: only if absent).
   * Resolves the new version, or undefined when the compare failed.
   */
  set(
    ns: string,
    key: string,
    value: unknown,
    options?: { ttlMs?: number; ifVersion?: number },
  ): Promise<number | undefined>;
  /** Deletes; with `ifVersion`, only if the version matches. Resolves whether something was deleted. */
  delete(ns: string, key: string, options?: { ifVersion?: number }): Promise<boolean>;
}

/** Query over invocation records. */
export interface InvocationQuery {
  fn?: string;
  deliveryId?: string;
  status?: InvocationRecord["status"];
  /** Only records that started before this time (paging). */
  before?: number;
  limit: number;
}

/** Queryable records. */
export interface Records {
  getInvocation(id: string): Promise<InvocationRecord | undefined>;
  /** Newest first. */
  queryInvocations(query: InvocationQuery): Promise<InvocationRecord[]>;
}

/** A backend: the four primitives and its lifecycle. */
export interface Backend {
  readonly name: string;
  readonly log: EventLog;
  readonly queue: DeliveryQueue;
  readonly kv: KeyValue;
  readonly records: Records;
  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
