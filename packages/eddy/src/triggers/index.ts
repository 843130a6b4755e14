/**
 * The registry of trigger kinds: adding a kind is a module in this folder implementing
 * {@link TriggerKind} and a line in {@link TRIGGER_KINDS}. `on`, the `Trigger` union and
 * `defineFunction`'s checks all come from it (the server keeps its own registry of what each kind
 * does at deploy and at run time, `packages/server/src/triggers/`).
 */
import { event } from "./event.js";
import { http } from "./http.js";
import type { TriggerKind } from "./kind.js";
import { queue } from "./queue.js";
import { schedule } from "./schedule.js";

export type { EventTrigger } from "./event.js";
export type { HttpCors, HttpMethod, HttpTrigger, HttpTriggerOptions, JsonSchema } from "./http-route.js";
export type { TriggerKind } from "./kind.js";
export type { QueueTrigger, QueueTriggerOptions } from "./queue.js";
export type { ScheduleTrigger, ScheduleTriggerOptions } from "./schedule.js";

/** Every trigger kind, by name. */
export const TRIGGER_KINDS = { event, queue, schedule, http } as const;

type Kinds = typeof TRIGGER_KINDS;

/** Everything a function can be bound to. */
export type Trigger = ReturnType<Kinds[keyof Kinds]["on"]>;

/** The trigger constructors: `on.<kind>` of every kind of the registry. */
export type TriggerConstructors = { [K in keyof Kinds]: Kinds[K]["on"] };

/**
 * Trigger constructors.
 *
 * @example
 * on.event({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } })
 * on.queue("thumbnails", { batchSize: 10, batchWindow: "1s" })
 * on.schedule("0 3 * * *", { tz: "Europe/Paris" })
 * on.http("GET /orders/:id", { cache: { ttl: "30s" } })
 */
export const on = Object.fromEntries(
  Object.values(TRIGGER_KINDS).map((k) => [k.kind, k.on]),
) as TriggerConstructors;

/** The kind a trigger names, or undefined for a name the registry does not have. */
export function triggerKind(name: unknown): TriggerKind<Trigger> | undefined {
  return typeof name === "string" && Object.hasOwn(TRIGGER_KINDS, name)
    ? (TRIGGER_KINDS[name as keyof Kinds] as unknown as TriggerKind<Trigger>)
    : undefined;
}

/** The names of the kinds, for messages: "on.event, on.queue, on.schedule or on.http". */
export function kindList(prefix = ""): string {
  const names = Object.keys(TRIGGER_KINDS).map((k) => `${prefix}${k}`);
  return `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`;
}

/** The triggers of each kind a configuration uses, in the registry's order. */
export function triggersByKind(triggers: readonly Trigger[]): [TriggerKind<Trigger>, Trigger[]][] {
  const out: [TriggerKind<Trigger>, Trigger[]][] = [];
  for (const k of Object.values(TRIGGER_KINDS) as unknown as TriggerKind<Trigger>[]) {
    const mine = triggers.filter((t) => t.kind === k.kind);
    if (mine.length > 0) out.push([k, mine]);
  }
  return out;
}

export { checkQueueName } from "./queue.js";
