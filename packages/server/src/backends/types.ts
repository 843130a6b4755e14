/**
 * The backend seam: a backend is a set of small primitives, each an interface in `primitives/`
 * with its own contract module in `contract/`, and optional capabilities it declares:
 *
 * | primitive | interface | what |
 * | --- | --- | --- |
 * | `log` | {@link EventLog} | append-only event log; an append writes the event's deliveries too |
 * | `queue` | {@link LeaseCore} | lease, settle, extend, release, next due, cancel, counts |
 * | `deadLetters` | {@link DeadLetterAdmin} | list, get, redrive, purge dead letters; leased/overdue view |
 * | `records` | {@link Records} | invocation records and metering |
 * | `kv` | {@link KeyValue} | key-value with compare-and-set, TTL, ordered prefix reads with paging |
 * | `traces` | {@link TraceLookups} | the events of a trace, the trace of an event |
 * | `journal` | {@link Journal} | workflow runs and their steps: create, lease fenced, put step, suspend, finish |
 * | `capabilities` | {@link BackendCapabilities} | optional: wake-ups, joined writes, shared bundles, broadcast |
 *
 * The engine only ever talks to these interfaces; `embedded` (SQLite) and `cluster` (NATS
 * JetStream + PostgreSQL) implement them, and `describeBackendContract` checks that both keep the
 * same promises. A new primitive is one interface here, one contract module, and one
 * implementation per backend (docs/architecture.md, "Adding a backend primitive").
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
import type { BackendCapabilities } from "./primitives/capabilities.js";
import type { DeadLetterAdmin } from "./primitives/dead-letters.js";
import type { Journal } from "./primitives/journal.js";
import type { KeyValue } from "./primitives/kv.js";
import type { LeaseCore } from "./primitives/lease.js";
import type { EventLog } from "./primitives/log.js";
import type { Records } from "./primitives/records.js";
import type { TraceLookups } from "./primitives/traces.js";

export type * from "./primitives/capabilities.js";
export type * from "./primitives/dead-letters.js";
export type * from "./primitives/journal.js";
export type * from "./primitives/kv.js";
export type * from "./primitives/lease.js";
export type * from "./primitives/log.js";
export type * from "./primitives/records.js";
export type * from "./primitives/traces.js";
export { MAX_RUN_LIST, PARENT_EXTENSION, RETRYABLE_RUN_STATUSES } from "./primitives/journal.js";
export { MAX_KV_BATCH, MAX_KV_LIST } from "./primitives/kv.js";
export { MAX_RESULT_BYTES } from "./primitives/records.js";

/** A backend: its primitives, its optional capabilities, and its lifecycle. */
export interface Backend {
  readonly name: string;
  readonly log: EventLog;
  readonly queue: LeaseCore;
  readonly deadLetters: DeadLetterAdmin;
  readonly kv: KeyValue;
  readonly records: Records;
  readonly traces: TraceLookups;
  readonly journal: Journal;
  readonly capabilities: BackendCapabilities;
  /**
   * The clock the backend's times come from (lease ends, due times, expiry, dedup windows): the
   * engine must run on the same one. Absent: the real clock, and no other (cluster: its times are
   * PostgreSQL's and JetStream's).
   */
  readonly clock?: Clock;
  /** Flushes pending writes and releases resources. */
  close(): Promise<void>;
}
