import type { EventPattern } from "../patterns/index.js";
import { validatePattern } from "../patterns/index.js";
import type { TriggerKind } from "./kind.js";

/** Runs the function for every event on the bus that matches `pattern` (EventBridge syntax). */
export interface EventTrigger {
  kind: "event";
  pattern: EventPattern;
}

/** `on.event`: a rule on the bus (fan-out to every matching function). */
export const event = {
  kind: "event",
  /**
   * Binds a function to the event bus: it runs once for every event that matches `pattern`.
   * The pattern is checked here, so a typo fails when the function is loaded, not silently later.
   *
   * @example
   * on.event({ type: ["order.placed"], source: [{ prefix: "/shop" }] })
   */
  on(pattern: EventPattern): EventTrigger {
    validatePattern(pattern);
    return { kind: "event", pattern };
  },
  check: (t) => validatePattern(t.pattern),
  rebuild: (t): EventTrigger => event.on(t.pattern as EventPattern),
} satisfies TriggerKind<EventTrigger>;
