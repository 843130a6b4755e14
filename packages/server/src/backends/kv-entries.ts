import type { KeyValue, KvEntry } from "./types.js";
import { MAX_KV_LIST } from "./types.js";

/**
 * Every live entry of `ns` under `prefix`, in key order, read page by page.
 *
 * @example
 * for await (const e of kvEntries(backend.kv, "eddy:queues")) console.log(e.key);
 */
export async function* kvEntries(
  kv: Pick<KeyValue, "list">,
  ns: string,
  prefix = "",
): AsyncGenerator<KvEntry & { key: string }> {
  let after: string | undefined;
  for (;;) {
    const page = await kv.list(ns, { prefix, limit: MAX_KV_LIST, ...(after !== undefined ? { after } : {}) });
    yield* page;
    if (page.length < MAX_KV_LIST) return;
    after = page.at(-1)!.key;
  }
}
