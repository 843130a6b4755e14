/**
 * What a sandbox hands back for an attempt, checked before the engine touches it: the host checks
 * it before sending (so that the function's author gets a clear error), and the engine checks it
 * again on receipt, since a process sandbox's code can send anything. Runs on both sides.
 */
import type { JsonExcess } from "../events/nesting.js";
import { MAX_JSON_DEPTH, measureJson } from "../events/nesting.js";
import { InvalidResultError } from "../errors/attempt.js";
import type { FromSandbox } from "./protocol.js";
import { serializeError } from "./worker/serialize.js";

/** The most an attempt may hand back, its return value, emits, queue sends and logs together, as JSON. */
export const MAX_RETURNED_BYTES = 16 * 1024 * 1024;

// The result message wraps what it carries in up to 4 levels ({ emits: [{ data: … }] }, { logs: [{ fields: … }] }).
const ENVELOPE_DEPTH = 4;

type ResultMessage = Extract<FromSandbox, { t: "result" }>;

/** Why the engine cannot take this result message, or undefined when it can. */
export function checkReturned(msg: ResultMessage): InvalidResultError | undefined {
  if (!Array.isArray(msg.logs) || (msg.ok && (!Array.isArray(msg.emits) || !Array.isArray(msg.sends)))) {
    return new InvalidResultError("the sandbox sent a malformed result message");
  }
  if (msg.ok && msg.result !== undefined) {
    const excess = measureJson(msg.result, { maxDepth: MAX_JSON_DEPTH, maxSize: MAX_RETURNED_BYTES });
    if (excess) return refusal(excess, "its return value");
  }
  const excess = measureJson(msg, { maxDepth: MAX_JSON_DEPTH + ENVELOPE_DEPTH, maxSize: MAX_RETURNED_BYTES });
  return (
    excess && refusal(excess, `what it handed back under "${excess.kind === "depth" ? excess.path : ""}"`)
  );
}

function refusal(excess: JsonExcess, what: string): InvalidResultError {
  return new InvalidResultError(
    excess.kind === "depth"
      ? `${what} nests objects and arrays deeper than the limit of ${MAX_JSON_DEPTH} levels`
      : `the return value, emits, sends and logs of the attempt are over ${excess.size} bytes of JSON, the limit is ${MAX_RETURNED_BYTES}`,
  );
}

/**
 * What a sandbox sends instead of a message that could not be serialized, so that what waits for
 * it fails at once instead of waiting for a timeout; undefined for a message nothing waits for.
 */
export function undeliverable(msg: FromSandbox, err: unknown): FromSandbox | undefined {
  const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  const error = serializeError(new InvalidResultError(`it could not be serialized (${why})`));
  if (msg.t === "result") return { t: "result", id: msg.id, ok: false, error, logs: [], logsTruncated: true };
  if (msg.t === "loaded") return { t: "load-failed", error };
  if (msg.t === "inspected")
    return { t: "inspected", results: msg.results.map(() => ({ ok: false, error })) };
  return undefined;
}
