import type { Broadcast } from "../backends/types.js";
import type { Logger } from "../observability/logger.js";
import type { DeployStateStore } from "./state.js";

/** The broadcast topic of "the deployment state changed". */
export const DEPLOYED = "deployed";
/**
 * How often a process looks whether the deployment state changed without it hearing so: the bound
 * on how long a node that missed the broadcast (it was cut off from NATS) runs the old set.
 */
export const DEPLOY_POLL_MS = 5_000;

/**
 * Keeps a process's running set in step with the deployment state other processes write (cluster
 * nodes share one, see deployer.ts). A deploy announces itself with a broadcast, which every other
 * node follows at once; broadcasts are best effort, so each node also reads the state's revision
 * every {@link DEPLOY_POLL_MS} and follows a change it did not hear of. Either way `reconcile`
 * reads the durable state and applies it; applying what already runs does nothing, so hearing a
 * change twice (or one's own) costs one read. A backend without broadcasts has one process only
 * (embedded): there is nothing to keep in step.
 */
export class DeploySync {
  readonly #broadcast: Broadcast | undefined;
  readonly #store: DeployStateStore;
  readonly #reconcile: () => Promise<void>;
  readonly #log: Logger;
  readonly #pollMs: number;
  #unsubscribe: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #seen: number | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #closed = false;

  constructor(options: {
    /** The backend's broadcast capability; absent: one process only, nothing to follow. */
    broadcast: Broadcast | undefined;
    store: DeployStateStore;
    reconcile: () => Promise<void>;
    log: Logger;
    pollMs?: number;
  }) {
    this.#broadcast = options.broadcast;
    this.#store = options.store;
    this.#reconcile = options.reconcile;
    this.#log = options.log;
    this.#pollMs = options.pollMs ?? DEPLOY_POLL_MS;
  }

  /** Starts following other processes' deploys (once this process applied its own at start). */
  start(): void {
    if (!this.#broadcast || this.#closed || this.#unsubscribe) return;
    this.#unsubscribe = this.#broadcast.listen(DEPLOYED, () => this.#follow());
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
    // A deploy elsewhere while this process started may have been missed: look once now.
    void this.#poll();
  }

  /** Tells the other processes that this one changed the deployment state. */
  announce(): void {
    try {
      this.#broadcast?.send(DEPLOYED, {});
    } catch (err) {
      // Best effort: the others see the new revision at their next poll.
      this.#log.warn({ err }, "could not announce a deploy; other nodes follow within their poll");
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    clearInterval(this.#timer);
    return this.#running ?? Promise.resolve();
  }

  async #poll(): Promise<void> {
    if (this.#closed) return;
    try {
      const revision = await this.#store.revision();
      if (revision === this.#seen) return;
      this.#seen = revision;
    } catch (err) {
      this.#log.warn({ err }, "could not read the deployment state's revision");
      return;
    }
    this.#follow();
  }

  /** Reconciles now, or once more after the reconcile running (changes heard meanwhile). */
  #follow(): void {
    if (this.#closed) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#reconcile();
        } catch (err) {
          // Looked at again at the next poll.
          this.#seen = undefined;
          this.#log.error({ err }, "could not apply a deploy made through another node; retrying");
        }
      } while (this.#again && !this.#closed);
    })().finally(() => (this.#running = undefined));
  }
}
