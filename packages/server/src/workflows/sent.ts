/**
 * What a workflow's `step.sendEvent` published, kept for the choreography map as the records keep
 * what an attempt emitted: one record per sendEvent step, listing the event types (each once, at
 * most 32), so `records.emissions` draws the workflow's observed `emits` edges on either backend.
 */
import type { CloudEvent } from "eddy";
import type { InvocationRecord, RunRow } from "../backends/types.js";
import { emissions } from "../dispatch/outcome.js";

/**
 * The record of the sendEvent step at `index` of `run`: its id is the run's and the step's place,
 * so a step published again after a crash (before it was journaled) stores no second record.
 */
export function sentRecord(run: RunRow, index: number, events: CloudEvent[], now: number): InvocationRecord {
  return {
    id: `${run.id}.${index}`,
    fn: run.workflow,
    version: run.version,
    deliveryId: run.id,
    eventId: run.event.id,
    eventSource: run.event.source,
    eventType: run.event.type,
    attempt: 1,
    status: "succeeded",
    outcome: "ack",
    startedAt: now,
    durationMs: 0,
    logs: [],
    ...emissions(events, []),
  };
}
