import { randomUUID } from "node:crypto";
import { Cron } from "croner";
import type { CloudEvent, ScheduleTrigger } from "eddy";
import type { KeyValue } from "../backends/types.js";
import type { Clock, ClockTimer } from "../clock/clock.js";
import type { Logger } from "../observability/logger.js";
import { scheduleSource } from "../events/sources.js";
import { InvalidFunctionConfigError } from "eddy";

/** The type of schedule tick events. */
export const TICK_TYPE = "eddy.schedule.tick";

/** One schedule of one function. */
export interface ScheduleSpec {
  fn: string;
  index: number;
  trigger: ScheduleTrigger;
}

/** What the scheduler needs from the engine. */
export interface SchedulerDeps {
  kv: KeyValue;
  /** Publishes a tick (durably, deduplicated by source + id). */
  publish(event: CloudEvent): Promise<void>;
  log: Logger;
  /** Ticks are computed from its time and waited for on its timers. */
  clock: Clock;
}

const STATE_NS = "schedules";
const LEADER = { ns: "eddy", key: "scheduler-leader" };
const LEADER_TTL_MS = 15_000;
const RENEW_MS = 5_000;
// Timers further away than this are re-armed in steps (setTimeout's limit, clock changes).
const MAX_TIMER_MS = 60_000;

/**
 * Fires cron schedules as CloudEvents on the bus, exactly once per tick: a tick's event id is
 * derived from the function, the schedule and the tick time, so a tick fired twice (a restart at
 * the wrong moment, two nodes) is deduplicated by the log. Only the node holding the scheduler
 * lease (a kv entry renewed with compare-and-set) fires; another node takes over when it expires.
 * Ticks missed while no node was running are skipped, or fired once (the latest) with
 * `missed: "runOnce"`; the last fired tick of each schedule is kept in kv for that.
 */
export class Scheduler {
  readonly #deps: SchedulerDeps;
  readonly #node = randomUUID();
  #specs: ScheduleSpec[] = [];
  readonly #timers = new Map<string, ClockTimer>();
  #leaderVersion: number | undefined;
  #renew: ClockTimer | undefined;
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
  }

  /** Validates a schedule trigger; throws an error naming the problem. */
  static check(trigger: ScheduleTrigger): void {
    try {
      new Cron(trigger.cron, { paused: true, ...(trigger.tz ? { timezone: trigger.tz } : {}) }).nextRun();
    } catch (err) {
      throw new InvalidFunctionConfigError(
        "",
        `schedule ${JSON.stringify(trigger.cron)}${trigger.tz ? ` (${trigger.tz})` : ""}: ${(err as Error).message}`,
      );
    }
  }

  /** Replaces the set of schedules (on deploy). */
  async set(specs: ScheduleSpec[]): Promise<void> {
    this.#specs = specs;
    for (const t of this.#timers.values()) this.#deps.clock.clearTimeout(t);
    this.#timers.clear();
    if (specs.length === 0) return;
    if (this.#renew === undefined) {
      this.#renew = this.#deps.clock.setInterval(() => void this.#lead(), RENEW_MS);
    }
    await this.#lead();
  }

  /** Stops firing and gives the lease up so that another node takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#deps.clock.clearInterval(this.#renew);
    for (const t of this.#timers.values()) this.#deps.clock.clearTimeout(t);
    this.#timers.clear();
    if (this.#leaderVersion !== undefined) {
      await this.#deps.kv
        .delete(LEADER.ns, LEADER.key, { ifVersion: this.#leaderVersion })
        .catch(() => false);
      this.#leaderVersion = undefined;
    }
  }

  /** Takes or renews the lease; when newly leading, catches up and arms every schedule. */
  async #lead(): Promise<void> {
    if (this.#stopped) return;
    try {
      const kv = this.#deps.kv;
      const current = await kv.get(LEADER.ns, LEADER.key);
      const mine = current && (current.value as { node: string }).node === this.#node;
      if (current && !mine) {
        this.#leaderVersion = undefined;
        return;
      }
      const v = await kv.set(
        LEADER.ns,
        LEADER.key,
        { node: this.#node },
        { ttlMs: LEADER_TTL_MS, ifVersion: current?.version ?? 0 },
      );
      const wasLeader = this.#leaderVersion !== undefined;
      this.#leaderVersion = v;
      if (v !== undefined && (!wasLeader || this.#timers.size === 0)) {
        for (const spec of this.#specs) await this.#catchUp(spec);
        for (const spec of this.#specs) this.#arm(spec);
      }
      if (v === undefined) {
        for (const t of this.#timers.values()) this.#deps.clock.clearTimeout(t);
        this.#timers.clear();
      }
    } catch (err) {
      this.#deps.log.warn({ err }, "scheduler: could not renew its lease; retrying");
    }
  }

  /** Applies the missed-ticks policy since the last tick this schedule fired. */
  async #catchUp(spec: ScheduleSpec): Promise<void> {
    const state = await this.#deps.kv.get(STATE_NS, stateKey(spec));
    const now = new Date(this.#deps.clock.now());
    const [latest] = cron(spec.trigger).previousRuns(1, now);
    if (!state) {
      // First time this schedule runs: nothing was missed.
      await this.#deps.kv.set(STATE_NS, stateKey(spec), { last: (latest ?? now).toISOString() });
      return;
    }
    const last = new Date((state.value as { last: string }).last);
    if (latest && latest > last && spec.trigger.missed === "runOnce") {
      this.#deps.log.info(
        { fn: spec.fn, tick: latest.toISOString() },
        "scheduler: running a tick missed while down",
      );
      await this.#fire(spec, latest, true);
    }
  }

  #arm(spec: ScheduleSpec): void {
    const key = stateKey(spec);
    const clock = this.#deps.clock;
    clock.clearTimeout(this.#timers.get(key));
    const next = cron(spec.trigger).nextRun(new Date(clock.now()));
    if (!next || this.#stopped) return;
    const wait = next.getTime() - clock.now();
    const timer = clock.setTimeout(
      () => {
        if (wait > MAX_TIMER_MS) return this.#arm(spec);
        void this.#fire(spec, next).finally(() => this.#arm(spec));
      },
      Math.min(Math.max(0, wait), MAX_TIMER_MS),
    );
    this.#timers.set(key, timer);
  }

  async #fire(spec: ScheduleSpec, tick: Date, missed = false): Promise<void> {
    if (this.#leaderVersion === undefined || this.#stopped) return;
    const iso = tick.toISOString();
    const event: CloudEvent = {
      specversion: "1.0",
      id: `${spec.fn}#${spec.index}@${iso}`,
      source: scheduleSource(spec.fn),
      type: TICK_TYPE,
      time: iso,
      // `missed`: fired late, at start, for a tick that passed while no node was running.
      data: { cron: spec.trigger.cron, tz: spec.trigger.tz ?? "UTC", scheduledAt: iso, missed },
    };
    try {
      await this.#deps.publish(event);
      await this.#deps.kv.set(STATE_NS, stateKey(spec), { last: iso });
    } catch (err) {
      this.#deps.log.error({ err, fn: spec.fn, tick: iso }, "scheduler: could not publish a tick");
    }
  }
}

function stateKey(spec: ScheduleSpec): string {
  return `${spec.fn}#${spec.index}`;
}

function cron(t: ScheduleTrigger): Cron {
  return new Cron(t.cron, { paused: true, ...(t.tz ? { timezone: t.tz } : {}) });
}
