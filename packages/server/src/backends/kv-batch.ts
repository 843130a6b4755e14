import type { KvBatchWrite } from "./types.js";
import { MAX_KV_BATCH } from "./types.js";

/**
 * Checks a {@link KeyValue.batch} before any backend writes it: bounded, each key once, values
 * JSON. Throws a TypeError naming the problem (a programmer's error: the callers are Eddy's own).
 */
export function checkKvBatch(writes: KvBatchWrite[]): void {
  if (writes.length > MAX_KV_BATCH) {
    throw new TypeError(`kv.batch takes at most ${MAX_KV_BATCH} writes, got ${writes.length}; split it`);
  }
  const seen = new Set<string>();
  for (const w of writes) {
    const id = `${w.ns}\u0000${w.key}`;
    if (seen.has(id)) throw new TypeError(`kv.batch writes ${w.ns}/${w.key} twice; write each key once`);
    seen.add(id);
    if (w.value !== undefined && JSON.stringify(w.value) === undefined) {
      throw new TypeError(`kv.batch: the value of ${w.ns}/${w.key} is not JSON-serializable`);
    }
  }
}
