import type { CloudEvent, EventProblem } from "eddy";
import { validateCloudEvent } from "eddy";
import { measureJson } from "./nesting.js";
import type { ProblemCode } from "../errors/http.js";

/** Limits applied to every incoming event. */
export interface EventLimits {
  /** Largest event, measured as its structured JSON in UTF-8 bytes. Default 256 KiB (EventBridge's). */
  maxEventBytes: number;
  /**
   * Deepest nesting of objects and arrays in an event. Default 64 (`MAX_JSON_DEPTH`). Checked
   * first and without recursion: the JSON encoders and structured clone that would measure an event
   * otherwise throw on one nested a few thousand levels deep.
   */
  maxEventDepth: number;
}

/** Why one event was refused: becomes an RFC 9457 problem (alone, or as one item of a batch). */
export interface Refusal {
  /** Its code's status in the registry (errors/http.ts). */
  status: number;
  code: ProblemCode;
  title: string;
  detail: string;
  errors?: EventProblem[];
}

/** An event that passed validation, with what the pipeline needs to know about it. */
export interface AcceptedEvent {
  event: CloudEvent;
  dedupKey: string;
}

/**
 * Validates one candidate event (already decoded from its HTTP binding) against the nesting limit,
 * CloudEvents 1.0 and the size limit.
 */
export function checkEvent(value: unknown, limits: EventLimits): AcceptedEvent | Refusal {
  const shape = measureJson(value, { maxDepth: limits.maxEventDepth, maxSize: limits.maxEventBytes });
  if (shape?.kind === "depth") {
    const at = shape.path || "the event";
    return {
      status: 400,
      code: "EDDY_EVENT_TOO_DEEP",
      title: "Event nested too deeply",
      detail: `${at} nests objects and arrays deeper than the limit of ${limits.maxEventDepth} levels; flatten it`,
      errors: [{ path: shape.path, message: `nested deeper than ${limits.maxEventDepth} levels` }],
    };
  }
  if (shape?.kind === "size") return tooLarge(`over ${limits.maxEventBytes}`, limits);
  const problems = validateCloudEvent(value);
  if (problems.length > 0) {
    return {
      status: 400,
      code: "EDDY_INVALID_EVENT",
      title: "Invalid CloudEvent",
      detail: problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; "),
      errors: problems,
    };
  }
  const event = value as CloudEvent;
  const size = Buffer.byteLength(JSON.stringify(event), "utf8");
  if (size > limits.maxEventBytes) return tooLarge(String(size), limits);
  return { event, dedupKey: dedupKey(event) };
}

/** `size`: "300000", or "over 262144" when the walk stopped at the limit before the exact count. */
function tooLarge(size: string, limits: EventLimits): Refusal {
  return {
    status: 413,
    code: "EDDY_EVENT_TOO_LARGE",
    title: "Event too large",
    detail: `the event is ${size} bytes, the limit is ${limits.maxEventBytes}; store large payloads elsewhere and send a reference`,
    errors: [{ path: "data", message: `event size ${size} bytes > ${limits.maxEventBytes}` }],
  };
}

/** True when `checkEvent` refused. */
export function isRefusal(v: AcceptedEvent | Refusal): v is Refusal {
  return "status" in v;
}

/** `source` + `id` identify an event (CloudEvents: "Consumers MAY assume that Events with identical source and id are duplicates"). */
export function dedupKey(event: Pick<CloudEvent, "source" | "id">): string {
  return `${event.source}\u0000${event.id}`;
}
