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
import type { Clock } from "../clock/clock.js";
import type {
  CloudEvent,
  DeadLetterView,
  DeliveryCounts,
  DeliveryView,
  ErrorView,
  Invocation,
  LogLine,
  TraceIds,
} from "eddy";

/**
 * One delivery to enqueue with an event. `fn` is the consumer: a function name, or `queue:<name>`
 * for a queue. The optional attributes serve flow control and are computed from the function's
 * configuration when the event is routed (dispatch/delivery-plan.ts).
 */
export interface NewDelivery {
  fn: string;
  /** Not leasable before this time (queue delays). Default: now. */
  dueAt?: number;
  /** Groups limited by the lease's `perGroup`/`ordered` options: FIFO message groups, concurrency keys. */
  groupKey?: string;
  /** Higher is leased first when the lease asks for `byPriority`. Default 0. */
  priority?: number;
  /** `cancel(fn, key)` drops queued deliveries with this key. */
  cancelKey?: string;
  /** Deliveries with the same batch key are leased together by `leaseBatch`. */
  batchKey?: string;
  /**
   * Debounce: a queued (not leased) delivery of `fn` with the same key takes this event instead of
   * a new delivery being made (the last event wins), and becomes due `periodMs` later, but no later
   * than `maxWaitMs` after that delivery was first made.
   */
  debounce?: { key: string; periodMs: number; maxWaitMs: number };
}

/** An event to append, with the deliveries it was routed to. */
export interface AppendEntry {
  event: CloudEvent;
  /**
   * The event's ingest span: kept beside the event (its body does not carry it), handed back with
   * each of its deliveries, and found by `log.byTrace`.
   */
  trace?: TraceIds;
  /** `source` + `id`: a repeat inside the dedup window stores nothing and is reported `duplicate`. */
  dedupKey: string;
  /** Overrides the append call's window for this entry (queues: 5 minutes). */
  dedupWindowMs?: number;
  deliveries: NewDelivery[];
}

/** What became of one {@link AppendEntry}. */
export type AppendResult = { status: "accepted"; seq: number } | { status: "duplicate"; seq: number };

/** An event as stored in the log. */
export interface StoredEvent {
  seq: number;
  receivedAt: number;
  event: CloudEvent;
}

/** Where an event or an attempt sits in its trace (W3C trace context ids, lower-case hex). */
export type { TraceIds };

/** The append-only event log. */
export interface EventLog {
  /**
   * Appends events and enqueues their deliveries. Resolves only once everything is durable; the
   * result at index i belongs to entry i. Entries with the same dedup key in one call: the first wins.
   */
  append(entries: AppendEntry[], options: { dedupWindowMs: number }): Promise<AppendResult[]>;
  /** Events with `seq > after`, oldest first. */
  read(after: number, limit: number): Promise<StoredEvent[]>;
  /** Every event of a trace, oldest first, with its span. */
  byTrace(traceId: string, limit: number): Promise<(StoredEvent & { trace: TraceIds })[]>;
  /**
   * The trace of an event: by `source` + `id` within the dedup window, else by id among recent
   * events (the newest such event if several sources used the id).
   */
  traceOf(eventId: string, source?: string): Promise<string | undefined>;
}

/** A delivery handed to one consumer until `leaseUntil`, after which it is handed out again. */
export interface LeasedDelivery {
  id: string;
  fn: string;
  /** 1 for the first attempt; counts every lease, so a crash mid-attempt uses one up. */
  attempt: number;
  event: CloudEvent;
  eventSeq: number;
  /**
   * The event's span ({@link AppendEntry.trace}), the parent of the attempt's. A backend that
   * carries it in the event's `traceparent` instead may leave this out.
   */
  trace?: TraceIds;
  createdAt: number;
  leaseToken: string;
  leaseUntil: number;
  groupKey?: string;
  /** How many times the delivery was redriven from the dead-letter queue. */
  redrives: number;
}

/** Options of a lease beyond its length. */
export interface LeaseOptions {
  /** At most this many leased deliveries per group key at once (deliveries without a group are free). */
  perGroup?: number;
  /** Within a group, only the oldest queued delivery is leasable (FIFO); implies perGroup 1. */
  ordered?: boolean;
  /** Higher `priority` first, then due time. */
  byPriority?: boolean;
}

/** A write to the key-value store made together with a settle (idempotency records, ctx.kv). */
export interface KvWrite {
  ns: string;
  key: string;
  /** undefined deletes the key. */
  value: unknown;
  ttlMs?: number;
}

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

/** How an attempt ends for its delivery. */
export type Settlement =
  { kind: "ack" } | { kind: "retry"; dueAt: number; error: ErrorInfo } | { kind: "dead"; error: ErrorInfo };

/** A delivery parked in a function's dead-letter queue. */
export type DeadLetter = DeadLetterView;

/** Which dead letters an operation applies to; every given field must match, none given: all. */
export interface DeadFilter {
  ids?: string[];
  eventType?: string;
  /** `name` of the last error, e.g. "TypeError", "FunctionTimeoutError". */
  errorName?: string;
  deadAfter?: number;
  deadBefore?: number;
}

/** Listing of dead letters, oldest first; `afterId` pages. */
export interface DeadQuery extends DeadFilter {
  limit: number;
  afterId?: string;
}

/**
 * A delivery as the admin view shows it. `node`: the node that holds a lease, on a backend of
 * several nodes (cluster); `nodeLost`: that node stopped beating, and its lease is taken over by a
 * live node within the backend's dead-node time (cluster: `deadAfterMs`), or it ends.
 */
export type DeliveryInfo = DeliveryView;

/** Per-function delivery counts. */
export type QueueCounts = DeliveryCounts;

/** The delivery queue: one entry per (event, function). */
export interface DeliveryQueue {
  /** Leases up to `max` deliveries of `fn` that are due (or whose lease expired), oldest due first. */
  lease(fn: string, max: number, leaseMs: number, options?: LeaseOptions): Promise<LeasedDelivery[]>;
  /**
   * Leases one batch: up to `maxSize` queued deliveries sharing a batch key (deliveries without one
   * form one batch), taken when the key has `maxSize` due, or its oldest due delivery has waited
   * `windowMs`. Empty when no batch is ready.
   */
  leaseBatch(fn: string, maxSize: number, leaseMs: number, windowMs: number): Promise<LeasedDelivery[]>;
  /**
   * Ends an attempt: ack (delete), retry at `dueAt`, or dead-letter; stores `invocation` and appends
   * `emit` (only sensible with ack) in the same durable write. Resolves false, changing nothing,
   * when the lease was lost (expired and handed to someone else).
   */
  settle(
    lease: LeasedDelivery,
    settlement: Settlement,
    extra: { invocation?: InvocationRecord; emit?: AppendEntry[]; dedupWindowMs: number; kv?: KvWrite[] },
  ): Promise<{ settled: boolean; emitted: AppendResult[] }>;
  /** Moves a held lease's end (queues' change-visibility). Resolves false if the lease was lost. */
  extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean>;
  /** Drops queued (not leased) deliveries of `fn` with this cancel key; resolves the dropped ones. */
  cancel(fn: string, cancelKey: string): Promise<{ id: string; eventId: string }[]>;
  /**
   * Gives leases back unused (leased ahead, never started): the deliveries are due again at once
   * (or at `dueAt`) and the lease does not count as an attempt. Leases no longer held are ignored.
   */
  release(leases: LeasedDelivery[], dueAt?: number): Promise<void>;
  /**
   * Earliest time a delivery of `fn` becomes leasable (due, or its lease expires); undefined if none.
   * A backend that cannot know exactly (cluster: JetStream holds the timers of other nodes' leases
   * and retries) answers the time at which it is worth looking again; it must never answer
   * undefined while deliveries of `fn` are waiting or leased.
   */
  nextDueAt(fn: string): Promise<number | undefined>;
  counts(fn: string): Promise<QueueCounts>;
  /** Dead letters of `fn`, oldest first. */
  listDead(fn: string, query: DeadQuery): Promise<DeadLetter[]>;
  getDead(fn: string, id: string): Promise<DeadLetter | undefined>;
  /** Puts matching dead letters back in the queue, due now with a fresh attempt budget; keeps their ids (and so their history). */
  redrive(fn: string, filter: DeadFilter): Promise<number>;
  /** Deletes matching dead letters for good. */
  purge(fn: string, filter: DeadFilter): Promise<number>;
  /** Number of dead letters per consumer that has any. */
  deadCounts(): Promise<Record<string, number>>;
  /**
   * The admin view: leased deliveries, or overdue ones (ready and due more than `overdueMs` ago —
   * work that should be running and is not), oldest first.
   */
  inspect(query: {
    state: "leased" | "overdue";
    fn?: string;
    overdueMs?: number;
    limit: number;
  }): Promise<DeliveryInfo[]>;
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

/** Queryable records. */
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

/**
 * Bundles of deployed versions, shared by the processes of a backend (cluster nodes), by file name
 * (`<module>.<version>.mjs`: content-addressed, so a name always stands for the same code). A
 * process keeps bundles in its own data folder; this store lets another process run a version it
 * never built nor received (deployed over HTTP through another node).
 */
export interface BundleStore {
  /** Which of these names are stored. */
  has(names: string[]): Promise<Set<string>>;
  /** Stores bundles; a name already stored is left as it is. Resolves once durable. */
  put(bundles: { name: string; code: Uint8Array }[]): Promise<void>;
  /** The code of a stored bundle, or undefined. */
  get(name: string): Promise<Uint8Array | undefined>;
}

/** A backend: the four primitives and its lifecycle. */
export interface Backend {
  readonly name: string;
  readonly log: EventLog;
  readonly queue: DeliveryQueue;
  readonly kv: KeyValue;
  readonly records: Records;
  /**
   * The clock the backend's times come from (lease ends, due times, expiry, dedup windows): the
   * engine must run on the same one. Absent: the real clock, and no other (cluster: its times are
   * PostgreSQL's and JetStream's).
   */
  readonly clock?: Clock;
  /**
   * Tells `listener` the consumers that got new deliveries appended by another process, or whose
   * deliveries became leasable in a way the engine does not see (cluster: a settle on any node that
   * freed a FIFO group or a per-key slot), so that their dispatchers wake at once instead of at
   * their next poll; returns the unsubscribe function. Optional: a backend that only this process
   * writes to (embedded) has nothing to tell, since the engine already wakes dispatchers after its
   * own appends and settles.
   */
  onDeliveries?(listener: (fns: string[]) => void): () => void;
  /**
   * True when a write issued while an append is pending runs after it and commits with it
   * (embedded: one group-commit transaction). The engine then leases the appended deliveries in
   * that same commit rather than after it: one durable write fewer before a handler starts.
   */
  readonly joinsWrites?: boolean;
  /**
   * Optional: a store of bundles shared by the processes of this backend. Without one (embedded,
   * a single process) bundles live in the data folder only.
   */
  readonly bundles?: BundleStore;
  /**
   * Tells the other processes on this backend's storage a `message` about `topic`: best effort,
   * not durable (a node that misses one catches up by itself: caches expire, key copies refresh).
   * The gateway uses it for cache invalidations and revoked keys. Optional, like `onDeliveries`.
   */
  broadcast?(topic: string, message: unknown): void;
  /** Listens to other processes' broadcasts on `topic` (never this process's own); returns the unsubscribe. */
  onBroadcast?(topic: string, listener: (message: unknown) => void): () => void;
  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
