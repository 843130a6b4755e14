import { randomUUID } from "node:crypto";
import type { CloudEvent } from "eddy";
import type { DeliveryInfo, LeasedDelivery, NewDelivery } from "@eddy/server";

/**
 * Which lane a delivery takes. The work stream (JetStream) hands messages out in stream order to
 * any consumer and knows nothing of groups, priorities, batches or cancellation; PostgreSQL can
 * enforce all of them in the lease. So a delivery goes to the table lane when it carries a
 * flow-control key (`groupKey`, `priority`, `batchKey`, `cancelKey`, `debounce`), and every
 * queue's delivery does (`queue:<name>`): receipt handles then settle and move visibility on any
 * node, fenced by the row. Everything else takes the work stream, the fast lane.
 */
export function takesTableLane(d: NewDelivery): boolean {
  return (
    d.fn.startsWith("queue:") ||
    d.groupKey !== undefined ||
    d.priority !== undefined ||
    d.batchKey !== undefined ||
    d.cancelKey !== undefined ||
    d.debounce !== undefined
  );
}

/** A delivery to store in the table lane. */
export interface TableDelivery {
  /** `<event seq>.<consumer>`, as on the work stream. */
  id: string;
  fn: string;
  eventSeq: number;
  event: CloudEvent;
  createdAt: number;
  /** Not leasable before (epoch ms); default: now. */
  dueAt?: number;
  /** Attempts already used (a delivery moved over from the work stream). */
  attempt?: number;
  redrives?: number;
  groupKey?: string;
  priority?: number;
  cancelKey?: string;
  batchKey?: string;
  debounce?: { key: string; periodMs: number; maxWaitMs: number };
}

/** The table lane's view of a delivery: what the lease functions return (type `leased_row`). */
export interface LeasedRow {
  id: string;
  ord: number;
  attempt: number;
  event_seq: number;
  event: string;
  created_at: number;
  group_key: string | null;
  redrives: number;
  due_at: number;
}

/** Lease tokens of the table lane start with this; the work stream's are base64url (no "."). */
const TABLE_TOKEN = "T.";

/**
 * A new lease token of the table lane (no "~": queue receipt handles use it as a separator),
 * naming the node instance that leased it, so that its leases can be taken over when it dies.
 */
export function newTableToken(instance: string): string {
  return `${TABLE_TOKEN}${instance}.${randomUUID()}`;
}

/** The LIKE pattern of the table-lane tokens of a node instance (hex only: no LIKE wildcards). */
export function tokensOf(instance: string): string {
  return `${TABLE_TOKEN}${instance}.%`;
}

/** Whether a lease token is one of the table lane's. */
export function isTableToken(token: string): boolean {
  return typeof token === "string" && token.startsWith(TABLE_TOKEN);
}

/** A leased row as the engine sees it. */
export function toLeased(fn: string, r: LeasedRow, token: string): LeasedDelivery {
  const d: LeasedDelivery = {
    id: r.id,
    fn,
    attempt: r.attempt,
    event: JSON.parse(r.event) as CloudEvent,
    eventSeq: r.event_seq,
    createdAt: r.created_at,
    leaseToken: token,
    leaseUntil: r.due_at,
    redrives: r.redrives,
  };
  if (r.group_key !== null) d.groupKey = r.group_key;
  return d;
}

/** Rows for `json_to_recordset`, see {@link TABLE_RECORD}. */
export function toRecords(list: TableDelivery[]): string {
  return JSON.stringify(
    list.map((d) => ({
      id: d.id,
      fn: d.fn,
      due_at: d.dueAt ?? null,
      attempt: d.attempt ?? 0,
      event_seq: d.eventSeq,
      event_id: d.event.id,
      event_type: d.event.type,
      event: JSON.stringify(d.event),
      created_at: d.createdAt,
      redrives: d.redrives ?? 0,
      group_key: d.groupKey ?? null,
      // The column is a 32-bit integer; priorities beyond it sort as its ends.
      priority: Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, d.priority ?? 0)),
      cancel_key: d.cancelKey ?? null,
      batch_key: d.batchKey ?? null,
    })),
  );
}

/** The record type of {@link toRecords}' rows in SQL. */
export const TABLE_RECORD = `AS t(id text, fn text, due_at bigint, attempt integer, event_seq bigint, event_id text,
  event_type text, event text, created_at bigint, redrives integer, group_key text, priority integer,
  cancel_key text, batch_key text)`;

/** The columns {@link TABLE_RECORD} fills, in order. */
export const TABLE_COLUMNS =
  "id, fn, due_at, attempt, event_seq, event_id, event_type, event, created_at, redrives, group_key, priority, cancel_key, batch_key";

/** An admin-view row. */
export interface InfoRow {
  id: string;
  fn: string;
  state: number;
  attempt: number;
  event_id: string;
  event_type: string;
  created_at: number;
  due_at: number;
}

/** An admin-view row as the engine sees it. */
export function toInfo(r: InfoRow): DeliveryInfo {
  return {
    id: r.id,
    fn: r.fn,
    state: r.state === 1 ? "leased" : "ready",
    attempt: r.attempt,
    eventId: r.event_id,
    eventType: r.event_type,
    createdAt: r.created_at,
    dueAt: r.due_at,
  };
}
