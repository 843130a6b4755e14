import type { DispatchDeps, DispatchTarget, LeaseFilter } from "./function-dispatcher.js";
import { FunctionDispatcher } from "./function-dispatcher.js";

/**
 * One {@link FunctionDispatcher} per deployed function. Deliveries of a function that is no longer
 * deployed stay in the queue untouched (they run if it comes back) rather than being dropped.
 */
export class Dispatcher {
  readonly #deps: DispatchDeps;
  readonly #filter: LeaseFilter | undefined;
  readonly #byName = new Map<string, FunctionDispatcher>();
  #stopping = false;

  constructor(deps: DispatchDeps, filter?: LeaseFilter) {
    this.#deps = deps;
    this.#filter = filter;
  }

  /** Makes the set of dispatched functions equal to `targets`. */
  async sync(targets: DispatchTarget[]): Promise<void> {
    const names = new Set(targets.map((t) => t.name));
    const removed = [...this.#byName].filter(([name, d]) => {
      const t = targets.find((x) => x.name === name);
      // A function that now consumes something else gets a new dispatcher.
      return !names.has(name) || t?.plan.consumer !== d.consumer;
    });
    for (const [name] of removed) this.#byName.delete(name);
    for (const t of targets) {
      const existing = this.#byName.get(t.name);
      if (existing) existing.update(t);
      else {
        const d = new FunctionDispatcher(t, this.#deps, this.#filter);
        this.#byName.set(t.name, d);
        if (!this.#stopping) d.wake();
      }
    }
    await Promise.all(removed.map(([, d]) => d.stop()));
  }

  /** Wakes the dispatchers that consume from the given consumer keys (new deliveries were committed). */
  wake(consumers: Iterable<string>): void {
    const set = new Set(consumers);
    for (const d of this.#byName.values()) if (set.has(d.consumer)) d.wake();
  }

  inFlight(name: string): number {
    return this.#byName.get(name)?.inFlight ?? 0;
  }

  /** Stops leasing everywhere and waits for the attempts in flight to settle. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all([...this.#byName.values()].map((d) => d.stop()));
  }
}
