import type { EventPattern } from "./patterns/index.js";
import { validatePattern } from "./patterns/index.js";

/** Runs the function for every event on the bus that matches `pattern` (EventBridge syntax). */
export interface EventTrigger {
  kind: "event";
  pattern: EventPattern;
}

/** Everything a function can be bound to. More kinds (queue, stream, http, schedule, storage) come later. */
export type Trigger = EventTrigger;

/**
 * Trigger constructors.
 *
 * @example
 * on.event({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } })
 */
export const on = {
  /**
   * Binds a function to the event bus: it runs once for every event that matches `pattern`.
   * The pattern is checked here, so a typo fails when the function is loaded, not silently later.
   *
   * @example
   * on.event({ type: ["order.placed"], source: [{ prefix: "/shop" }] })
   */
  event(pattern: EventPattern): EventTrigger {
    validatePattern(pattern);
    return { kind: "event", pattern };
  },
};
