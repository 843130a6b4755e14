import type { CloudEvent, Trigger } from "eddy";
import { PatternIndex } from "./pattern-index.js";

/** What the router needs to know of a function. */
export interface RoutedFunction {
  name: string;
  triggers: Trigger[];
}

/**
 * Routes an event to every function with a matching `on.event` trigger, through a compiled
 * {@link PatternIndex}. Replaced as a whole when the set of functions changes, so a route call never
 * sees half of a deploy.
 */
export class Router {
  #index = new PatternIndex<string>();

  /** Rebuilds the index from the given functions. */
  setFunctions(functions: RoutedFunction[]): void {
    const index = new PatternIndex<string>();
    for (const fn of functions) {
      fn.triggers.forEach((t, i) => {
        if (t.kind === "event") index.add(`${fn.name}#${i}`, t.pattern, fn.name);
      });
    }
    this.#index = index;
  }

  /** Names of the functions that must run `event`, each once. */
  route(event: CloudEvent): string[] {
    const targets = this.#index.match(event as unknown as Record<string, unknown>);
    return targets.length > 1 ? [...new Set(targets)] : targets;
  }
}
