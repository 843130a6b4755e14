/**
 * The append-only event log: events with the deliveries routed from them, written together.
 */
import type { CloudEvent } from "eddy";
import type { TraceIds } from "./traces.js";

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
   * each of its deliveries, and found by `traces.byTrace`.
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

/** The append-only event log. Contract: contract/log.ts. */
export interface EventLog {
  /**
   * Appends events and enqueues their deliveries. Resolves only once everything is durable; the
   * result at index i belongs to entry i. Entries with the same dedup key in one call: the first wins.
   */
  append(entries: AppendEntry[], options: { dedupWindowMs: number }): Promise<AppendResult[]>;
  /** Events with `seq > after`, oldest first. */
  read(after: number, limit: number): Promise<StoredEvent[]>;
}
