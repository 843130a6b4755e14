/**
 * Dead-letter administration: the parked deliveries of each consumer (list, get, redrive, purge,
 * counts) and the admin view of the deliveries that are leased or overdue.
 */
import type { DeadLetterView, DeliveryView } from "eddy";

/** A delivery parked in a consumer's dead-letter queue. */
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

/** What {@link DeadLetterAdmin.inspect} shows. */
export interface DeliveryInspectQuery {
  state: "leased" | "overdue";
  fn?: string;
  /** Overdue: ready and due more than this long ago. Default 30 s. */
  overdueMs?: number;
  limit: number;
}

/** Dead-letter administration and the admin view of deliveries. Contract: contract/dead-letters.ts. */
export interface DeadLetterAdmin {
  /** Dead letters of `fn`, oldest first. */
  list(fn: string, query: DeadQuery): Promise<DeadLetter[]>;
  get(fn: string, id: string): Promise<DeadLetter | undefined>;
  /** Puts matching dead letters back in the queue, due now with a fresh attempt budget; keeps their ids (and so their history). */
  redrive(fn: string, filter: DeadFilter): Promise<number>;
  /** Deletes matching dead letters for good. */
  purge(fn: string, filter: DeadFilter): Promise<number>;
  /** Number of dead letters per consumer that has any. */
  counts(): Promise<Record<string, number>>;
  /**
   * The admin view: leased deliveries, or overdue ones (ready and due more than `overdueMs` ago —
   * work that should be running and is not), oldest first.
   */
  inspect(query: DeliveryInspectQuery): Promise<DeliveryInfo[]>;
}
