import type { CloudEvent } from "eddy";
import type { AppendEntry, InvocationRecord, LeasedDelivery, NewDelivery } from "../types.js";

/** The dedup window the contract tests append with. */
export const WINDOW = { dedupWindowMs: 60_000 };
let counter = 0;

/** An event entry with deliveries to the given consumers (names, or full NewDelivery objects). */
export function entry(deliveries: string[] | NewDelivery[], type = "contract.test"): AppendEntry {
  const id = `e-${process.pid}-${Date.now()}-${++counter}`;
  const event: CloudEvent = {
    specversion: "1.0",
    id,
    source: "/contract",
    type,
    data: { n: counter },
  };
  return {
    event,
    dedupKey: `/contract\u0000${id}`,
    deliveries: deliveries.map((d) => (typeof d === "string" ? { fn: d } : d)),
  };
}

/** A recorded error. */
export function boom() {
  return { name: "Error", message: "boom" };
}

/** An invocation record for a leased delivery. */
export function record(d: LeasedDelivery, over: Partial<InvocationRecord> = {}): InvocationRecord {
  return {
    id: `inv-${++counter}`,
    fn: d.fn,
    version: "v1",
    deliveryId: d.id,
    eventId: d.event.id,
    eventSource: d.event.source,
    eventType: d.event.type,
    attempt: d.attempt,
    status: "succeeded",
    outcome: "ack",
    startedAt: Date.now(),
    durationMs: 1.5,
    logs: [],
    ...over,
  };
}

/** Waits `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise<void>((r) => setTimeout(r, ms));
}
