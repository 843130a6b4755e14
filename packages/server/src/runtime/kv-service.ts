import type { KvItem } from "eddy";
import type { KeyValue } from "../backends/types.js";
import type { KvService } from "./sandbox.js";

/** The backend namespace of a function's `ctx.kv`: shared by its versions, apart from other functions. */
export function kvNamespace(fn: string): string {
  return `fn:${fn}`;
}

/** Serves `ctx.kv` calls of function `fn` on the backend's key-value primitive. */
export function kvService(kv: KeyValue, fn: string): KvService {
  const ns = kvNamespace(fn);
  return async (call) => {
    switch (call.op) {
      case "get": {
        const e = await kv.get(ns, call.key);
        if (!e) return undefined;
        const item: KvItem = { value: e.value, version: e.version };
        if (e.expiresAt !== undefined) item.expiresAt = e.expiresAt;
        return item;
      }
      case "set":
        return kv.set(ns, call.key, call.value, { ttlMs: call.ttlMs, ifVersion: call.ifVersion });
      case "delete":
        return kv.delete(ns, call.key, { ifVersion: call.ifVersion });
    }
  };
}
