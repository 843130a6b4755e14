import type { ScheduleTrigger } from "eddy";
import { scheduleSource } from "../../events/sources.js";
import { Scheduler } from "../../schedules/scheduler.js";
import type { TriggerKind } from "../kind.js";

/**
 * `on.schedule`: the scheduler (`schedules/`) fires each schedule's ticks as events from the
 * function's own source, and the router hands those to the function. It follows every deploy and
 * stops first at shutdown.
 */
export function scheduleKind(): TriggerKind<ScheduleTrigger> {
  let scheduler: Scheduler | undefined;
  return {
    kind: "schedule",
    start(services) {
      scheduler = new Scheduler({
        kv: services.backend.kv,
        log: services.log,
        clock: services.clock,
        publish: (event) => services.publish(event),
      });
    },
    check: (_fn, triggers) => triggers.forEach(({ trigger }) => Scheduler.check(trigger)),
    patterns: (fn) => [{ id: `${fn}#schedule`, pattern: { source: [scheduleSource(fn)] } }],
    deployed: (functions) =>
      scheduler!.set(
        functions.flatMap((f) =>
          f.config.triggers.flatMap((trigger, index) =>
            trigger.kind === "schedule" ? [{ fn: f.name, index, trigger }] : [],
          ),
        ),
      ),
    stop: async () => scheduler?.stop(),
  };
}
