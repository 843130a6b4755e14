import { InvalidFunctionConfigError } from "../errors.js";
import type { TriggerKind } from "./kind.js";

/** Runs on a cron schedule; every tick is a CloudEvent `eddy.schedule.tick` on the bus. */
export interface ScheduleTrigger {
  kind: "schedule";
  cron: string;
  /** IANA time zone of the cron expression. Default UTC. */
  tz?: string;
  /** Ticks missed while Eddy was down: "skip" them (default), or "runOnce" for the latest. */
  missed?: "skip" | "runOnce";
}

/** Options of {@link on.schedule}. */
export interface ScheduleTriggerOptions {
  tz?: string;
  missed?: "skip" | "runOnce";
}

/** `on.schedule`: cron ticks (the server checks the expression with its cron library at deploy). */
export const schedule = {
  kind: "schedule",
  /**
   * Runs on a cron schedule (5 or 6 fields, croner syntax), once per tick across restarts and nodes.
   *
   * @example
   * on.schedule("0 3 * * *", { tz: "Europe/Paris" })
   */
  on(cron: string, options: ScheduleTriggerOptions = {}): ScheduleTrigger {
    if (typeof cron !== "string" || cron.trim().split(/\s+/).length < 5) {
      throw new InvalidFunctionConfigError(
        "schedule.cron",
        `must be a cron expression with 5 or 6 fields such as "*/5 * * * *", got ${JSON.stringify(cron)}`,
      );
    }
    if (options.missed !== undefined && options.missed !== "skip" && options.missed !== "runOnce") {
      throw new InvalidFunctionConfigError(
        "schedule.missed",
        `must be "skip" or "runOnce", got ${JSON.stringify(options.missed)}`,
      );
    }
    const t: ScheduleTrigger = { kind: "schedule", cron: cron.trim() };
    if (options.tz !== undefined) t.tz = options.tz;
    if (options.missed !== undefined) t.missed = options.missed;
    return t;
  },
  rebuild: (t): ScheduleTrigger =>
    schedule.on(t.cron as string, {
      tz: t.tz as string | undefined,
      missed: t.missed as "skip" | undefined,
    }),
} satisfies TriggerKind<ScheduleTrigger>;
