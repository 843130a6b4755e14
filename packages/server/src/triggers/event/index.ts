import type { EventTrigger } from "eddy";
import { unknownPatternKeys } from "../../router/pattern-keys.js";
import type { TriggerKind } from "../kind.js";

/** `on.event`: rules on the bus, compiled into the router's pattern index. */
export function eventKind(): TriggerKind<EventTrigger> {
  return {
    kind: "event",
    patterns: (fn, triggers) =>
      triggers.map(({ trigger, index }) => ({ id: `${fn}#${index}`, pattern: trigger.pattern })),
    warnings: (_fn, triggers, seen) =>
      triggers.flatMap(({ trigger, index }) =>
        unknownPatternKeys(trigger.pattern, seen).map((message) => `triggers[${index}]: ${message}`),
      ),
  };
}
