/**
 * The lease core of the delivery queue: one entry per (event, consumer), leased with a token,
 * settled (ack / retry at / dead-letter), extended, released, and asked when it is due next.
 */
import type { CloudEvent, DeliveryCounts } from "eddy";
import type { KvWrite } from "./kv.js";
import type { AppendEntry, AppendResult } from "./log.js";
import type { ErrorInfo, InvocationRecord } from "./records.js";
import type { TraceIds } from "./traces.js";

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

/** How an attempt ends for its delivery. */
export type Settlement =
  { kind: "ack" } | { kind: "retry"; dueAt: number; error: ErrorInfo } | { kind: "dead"; error: ErrorInfo };

/**
 * What a settle writes besides the delivery's new state, in the same durable write: the attempt's
 * record (kept even when the lease was lost: the attempt happened), and, only when the lease is
 * still held, its key-value writes and (with an ack) the events it emitted.
 */
export interface SettleWrites {
  invocation?: InvocationRecord;
  /** Events the attempt emitted: appended only with an ack. */
  emit?: AppendEntry[];
  /** The dedup window of `emit`. */
  dedupWindowMs: number;
  kv?: KvWrite[];
}

/** What a settle did. */
export interface SettleResult {
  /** False when the lease was lost (expired and handed to someone else): nothing but the record was written. */
  settled: boolean;
  /** The results of `emit`, in order (empty unless settled with an ack). */
  emitted: AppendResult[];
}

/** Per-consumer delivery counts. */
export type QueueCounts = DeliveryCounts;

/** The lease core of the delivery queue. Contract: contract/lease.ts and contract/flow.ts. */
export interface LeaseCore {
  /** Leases up to `max` deliveries of `fn` that are due (or whose lease expired), oldest due first. */
  lease(fn: string, max: number, leaseMs: number, options?: LeaseOptions): Promise<LeasedDelivery[]>;
  /**
   * Leases one batch: up to `maxSize` queued deliveries sharing a batch key (deliveries without one
   * form one batch), taken when the key has `maxSize` due, or its oldest due delivery has waited
   * `windowMs`. Empty when no batch is ready.
   */
  leaseBatch(fn: string, maxSize: number, leaseMs: number, windowMs: number): Promise<LeasedDelivery[]>;
  /**
   * Ends an attempt: ack (delete), retry at `dueAt`, or dead-letter, with `writes` in the same
   * durable write. Resolves `settled: false`, changing nothing but the record, when the lease was lost.
   */
  settle(lease: LeasedDelivery, settlement: Settlement, writes: SettleWrites): Promise<SettleResult>;
  /** Moves a held lease's end (queues' change-visibility). Resolves false if the lease was lost. */
  extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean>;
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
  /** Drops queued (not leased) deliveries of `fn` with this cancel key; resolves the dropped ones. */
  cancel(fn: string, cancelKey: string): Promise<{ id: string; eventId: string }[]>;
  counts(fn: string): Promise<QueueCounts>;
}
