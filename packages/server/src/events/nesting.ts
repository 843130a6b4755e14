/**
 * How deep and how large a JSON value is, measured without recursion. `JSON.stringify`, structured
 * clone (`postMessage`) and IPC serialization all recurse: a value nested a few thousand levels deep
 * makes them throw `RangeError: Maximum call stack size exceeded`, on the sending side or, across a
 * thread, on the receiving one. So whatever Eddy takes in (events, queue messages) or takes back
 * from a sandbox (results) is measured with this first. Runs on both sides of a sandbox.
 */

/** How deep objects and arrays may nest in an event, a queue message or a function's return value. */
export const MAX_JSON_DEPTH = 64;

/** The limits {@link measureJson} checks. */
export interface JsonLimits {
  /** Levels of objects and arrays: `{}` is 1, `{"a":[1]}` is 2. */
  maxDepth: number;
  /** Approximate size of its JSON; see {@link measureJson}. */
  maxSize: number;
}

/** The first limit a value was found to pass. */
export type JsonExcess =
  /** `path`: the top-level key (or `[index]`) under which it nests too deep; "" for the value itself. */
  { kind: "depth"; path: string } | { kind: "size"; size: number };

/**
 * Walks `value` and stops at the first limit it passes; undefined when it is within both. The size
 * is a lower bound of the length of its JSON (string lengths, key lengths, one per other value), so a
 * value within `maxSize` writes out as JSON of at most a small multiple of it. A value reached twice
 * counts twice, as JSON writes it twice: a small graph that expands exponentially is too large, a
 * cycle too deep. Costs at most `maxSize` steps whatever the value.
 */
export function measureJson(value: unknown, limits: JsonLimits): JsonExcess | undefined {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  const paths: string[] = [""];
  let size = 0;
  while (values.length > 0) {
    const v = values.pop();
    const depth = depths.pop()! + 1;
    const path = paths.pop()!;
    if (typeof v === "string") size += v.length + 2;
    else if (typeof v !== "object" || v === null) size += 1;
    else {
      if (depth > limits.maxDepth) return { kind: "depth", path };
      size += 2;
      const top = depth === 1;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length && size <= limits.maxSize; i++) {
          values.push(v[i]);
          depths.push(depth);
          paths.push(top ? `[${i}]` : path);
          size += 1;
        }
      } else {
        for (const k of Object.keys(v)) {
          values.push((v as Record<string, unknown>)[k]);
          depths.push(depth);
          paths.push(top ? k : path);
          size += k.length + 3;
          if (size > limits.maxSize) break;
        }
      }
    }
    if (size > limits.maxSize) return { kind: "size", size };
  }
  return undefined;
}
