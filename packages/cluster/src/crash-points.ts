/**
 * The named points between two steps of the cluster's cross-store writes (docs/cluster.md, "One
 * way to write across both stores"). Each is where a crash leaves the stores in a state the next
 * step or another node must finish or ignore; `test/crash-points.test.ts` kills a node at each one
 * and checks that nothing acknowledged is lost, nothing that must happen once happens twice, and no
 * delivery is stuck.
 */
export const CRASH_POINTS = [
  /** An append published its events to the log stream; nothing is in PostgreSQL yet. */
  "append.logged",
  /** An append's transaction committed (dedup keys, table rows, outbox rows); nothing relayed yet. */
  "append.committed",
  /** Outbox messages were published to JetStream; their rows are not deleted yet. */
  "relay.published",
  /** A settle published its emitted events to the log stream; its transaction has not run. */
  "settle.logged",
  /** A settle's transaction committed (outcome, record, key-value, emits' rows); not relayed, not acked. */
  "settle.committed",
  /** Due scheduled deliveries moved to the outbox (committed); not relayed yet. */
  "promote.committed",
  /** Dead letters redriven (committed, the stream lane's as outbox rows); not relayed yet. */
  "redrive.committed",
] as const;

/** One of {@link CRASH_POINTS}. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * Called at every crash point (tests only: see `ClusterOptions.faults`). It may throw (the write
 * fails there, as on a lost connection) or end the process (`process.kill(process.pid, "SIGKILL")`).
 */
export type FaultInjector = (point: CrashPoint) => void;

/** Calls the options' fault injector at a named point; a no-op unless a test installed one. */
export function crashPoint(o: { faults: FaultInjector | undefined }, point: CrashPoint): void {
  o.faults?.(point);
}
