import { randomBytes } from "node:crypto";
import type { TraceIds } from "../backends/types.js";

/** A parsed W3C `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  flags: string;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** Parses a traceparent; undefined when absent or invalid (as the spec says: then start a new trace). */
export function parseTraceparent(value: unknown): TraceParent | undefined {
  if (typeof value !== "string") return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m || m[1] === "ff" || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, flags: m[4]! };
}

/** Formats a version-00 traceparent. */
export function formatTraceparent(traceId: string, spanId: string, flags = "01"): string {
  return `00-${traceId}-${spanId}-${flags}`;
}

// Ids come from a pooled buffer of random bytes: one syscall per 512 spans, not one per span.
let pool = Buffer.alloc(0);
let offset = 0;
/** Where `bytes` fresh random bytes start in `pool`. */
function take(bytes: number): number {
  if (offset + bytes > pool.length) {
    pool = randomBytes(4096);
    offset = 0;
  }
  offset += bytes;
  return offset - bytes;
}

// The sequence number that orders trace ids made in the same millisecond, and the id being built.
let sequence = 0;
const id = Buffer.alloc(16);

/**
 * A new 16-byte trace id: 6 bytes of epoch milliseconds, a 2-byte sequence number, then 8 random
 * bytes (the W3C Level 2 "random" part is the rightmost 7). Ids made by one process therefore
 * increase, so the indexes that find a trace's events and attempts grow at their right edge. With
 * a coarser prefix (epoch seconds, as AWS X-Ray does) every insert touched a random page of the
 * last second's entries: about 3 µs more CPU per event (bench/trace-storage.js). 64 random bits
 * keep ids unique across nodes.
 */
export function newTraceId(): string {
  sequence = (sequence + 1) & 0xffff;
  id.writeUIntBE(Date.now() % 2 ** 48, 0, 6);
  id.writeUInt16BE(sequence, 6);
  const at = take(8);
  pool.copy(id, 8, at, at + 8);
  return id.toString("hex");
}

/** A new random 8-byte span id. */
export function newSpanId(): string {
  const at = take(8);
  return pool.toString("hex", at, at + 8);
}

/**
 * Gives an event its span: a child of the trace context it arrived with (its own `traceparent`
 * extension, else the one it inherits: the HTTP request's, the emitting attempt's), or the root of
 * a new trace. The span is kept beside the event (the log's trace columns), not written into it:
 * a traceparent in every stored body was ~40% of what tracing cost (docs/observability.md). The
 * backend hands it back with each delivery, and the handler sees its attempt's span as
 * `event.traceparent`.
 */
export function stampTrace(event: Record<string, unknown>, inherited?: string): TraceIds {
  const parent = parseTraceparent(event.traceparent) ?? parseTraceparent(inherited);
  const ids: TraceIds = { traceId: parent?.traceId ?? newTraceId(), spanId: newSpanId() };
  if (parent) ids.parentSpanId = parent.spanId;
  return ids;
}

/** The event with its own span as its `traceparent` extension (where an event is shown or carried whole). */
export function withTraceparent<E extends object>(event: E, trace: TraceIds | undefined): E {
  return trace ? { ...event, traceparent: formatTraceparent(trace.traceId, trace.spanId) } : event;
}
