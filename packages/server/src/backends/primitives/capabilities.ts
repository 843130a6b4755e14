/**
 * Optional capabilities: what a backend of several processes (cluster nodes) can do that a
 * single-process one (embedded) has no use for, and what a backend can promise beyond the
 * primitives. The engine uses each only when the backend declares it in `Backend.capabilities`;
 * each has a contract module (contract/capabilities/) that runs on every backend declaring it.
 */

/** Contract: contract/capabilities/wakeups.ts. */
export interface DeliveryWakeups {
  /**
   * Tells `listener` the consumers that got new deliveries appended by another process, or whose
   * deliveries became leasable in a way the engine does not see (cluster: a settle on any node that
   * freed a FIFO group or a per-key slot), so that their dispatchers wake at once instead of at
   * their next poll; returns the unsubscribe function. A backend that only this process writes to
   * (embedded) has nothing to tell, since the engine already wakes dispatchers after its own
   * appends and settles.
   */
  onDeliveries(listener: (fns: string[]) => void): () => void;
}

/**
 * Bundles of deployed versions, shared by the processes of a backend (cluster nodes), by file name
 * (`<module>.<version>.mjs`: content-addressed, so a name always stands for the same code). A
 * process keeps bundles in its own data folder; this store lets another process run a version it
 * never built nor received (deployed over HTTP through another node).
 */
/** Contract: contract/capabilities/bundles.ts. */
export interface BundleStore {
  /** Which of these names are stored. */
  has(names: string[]): Promise<Set<string>>;
  /** Stores bundles; a name already stored is left as it is. Resolves once durable. */
  put(bundles: { name: string; code: Uint8Array }[]): Promise<void>;
  /** The code of a stored bundle, or undefined. */
  get(name: string): Promise<Uint8Array | undefined>;
}

/**
 * Messages to the other processes on this backend's storage: best effort, not durable (a node that
 * misses one catches up by itself: caches expire, key copies refresh). The gateway uses it for
 * cache invalidations and revoked keys. Contract: contract/capabilities/broadcast.ts.
 */
export interface Broadcast {
  /** Tells the other processes a `message` about `topic` (never this process itself). */
  send(topic: string, message: unknown): void;
  /**
   * Listens to other processes' messages on `topic` (never this process's own); returns the
   * unsubscribe. Best effort from the start too: a message sent in the moment right after `listen`
   * may be missed.
   */
  listen(topic: string, listener: (message: unknown) => void): () => void;
}

/** The optional capabilities a backend declares; absent: it does not have it. */
export interface BackendCapabilities {
  /** Wake-ups for deliveries made or freed by other processes. */
  readonly wakeups?: DeliveryWakeups;
  /**
   * True when a write issued while an append is pending runs after it and commits with it
   * (embedded: one group-commit transaction). The engine then leases the appended deliveries in
   * that same commit rather than after it: one durable write fewer before a handler starts.
   * Contract: contract/capabilities/joins-writes.ts.
   */
  readonly joinsWrites?: true;
  /**
   * A store of bundles shared by the processes of this backend. Without one (embedded, a single
   * process) bundles live in the data folder only.
   */
  readonly bundles?: BundleStore;
  /** Best-effort messages between the processes of this backend. */
  readonly broadcast?: Broadcast;
}
