/**
 * What starts a function, as nodes of the choreography map: one reader per trigger kind, looked
 * up by `kind`, so a new kind (stream, storage, workflow) is a new entry and a kind without one is
 * left off the map rather than breaking it.
 */
import type { EventPattern, GraphNodeKind, Trigger } from "eddy";

/** A node that starts a function. */
export interface TriggerSource {
  kind: GraphNodeKind;
  name: string;
  /** A pattern node's condition on `type`, when it has one: event types it matches get an edge. */
  typeCondition?: unknown;
}

type Reader = (t: Trigger) => TriggerSource[];

const READERS: Readonly<Record<string, Reader>> = {
  event: (t) => eventSources((t as Extract<Trigger, { kind: "event" }>).pattern),
  queue: (t) => [{ kind: "queue", name: (t as Extract<Trigger, { kind: "queue" }>).queue }],
  schedule: (t) => {
    const s = t as Extract<Trigger, { kind: "schedule" }>;
    return [{ kind: "schedule", name: s.tz ? `${s.cron} (${s.tz})` : s.cron }];
  },
  http: (t) => {
    const h = t as Extract<Trigger, { kind: "http" }>;
    return [{ kind: "route", name: `${h.method} ${h.path}` }];
  },
};

/** The nodes `trigger` stands for; none for a kind the map does not know. */
export function triggerSources(trigger: Trigger): TriggerSource[] {
  return READERS[trigger.kind]?.(trigger) ?? [];
}

/**
 * An event trigger: the exact types its pattern names (`type: ["a", "b"]`); any other pattern (a
 * prefix or wildcard on `type`, or no `type` at all) is one pattern node, named by its JSON.
 */
function eventSources(pattern: EventPattern): TriggerSource[] {
  const type: unknown = (pattern as Record<string, unknown>).type;
  if (Array.isArray(type) && type.length > 0 && type.every((v) => typeof v === "string")) {
    return [...new Set(type as string[])].map((name) => ({ kind: "event", name }));
  }
  const node: TriggerSource = { kind: "pattern", name: JSON.stringify(pattern) };
  if (type !== undefined) node.typeCondition = type;
  return [node];
}
