import type { DispatchDeps, DispatchTarget } from "./function-dispatcher.js";
import { FunctionDispatcher } from "./function-dispatcher.js";

/**
 * One {@link FunctionDispatcher} per deployed function. Deliveries of a function that is no longer
 * deployed stay in the queue untouched (they run if it comes back) rather than being dropped.
 */
export class Dispatcher {
  readonly #deps: DispatchDeps;
  readonly #byName = new Map<string, FunctionDispatcher>();
  #stopping = false;

  constructor(deps: DispatchDeps) {
    this.#deps = deps;
  }

  /** Makes the set of dispatched functions equal to `targets`. */
  async sync(targets: DispatchTarget[]): Promise<void> {
    const names = new Set(targets.map((t) => t.name));
    const removed = [...this.#byName].filter(([name]) => !names.has(name));
    for (const [name] of removed) this.#byName.delete(name);
    for (const t of targets) {
      const existing = this.#byName.get(t.name);
      if (existing) existing.update(t);
      else {
        const d = new FunctionDispatcher(t, this.#deps);
        this.#byName.set(t.name, d);
        if (!this.#stopping) d.wake();
      }
    }
    await Promise.all(removed.map(([, d]) => d.stop()));
  }

  /** Wakes the dispatchers of the given functions (new deliveries were committed). */
  wake(names: Iterable<string>): void {
    for (const n of names) this.#byName.get(n)?.wake();
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
