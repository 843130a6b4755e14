import { readFileSync } from "node:fs";
import type { ResolvedFunctionConfig } from "eddy";
import type { KeyValue } from "../backends/types.js";
import type { ConfigCache } from "./inspect.js";

/**
 * Per server release: a new release may resolve the same module differently (new defaults), so
 * its configurations are read afresh.
 */
const NS = `eddy:configs:${(JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version}`;
/** Configurations of versions not loaded for this long are forgotten. */
const TTL_MS = 30 * 86_400_000;

/**
 * Configurations read from bundles, by version, in the backend's key-value store. The store keeps
 * JSON, and a resolved configuration may hold numbers JSON has not (`debounce.maxWaitMs` is
 * Infinity when unset): those are kept as `{ $number: "Infinity" }` and restored.
 */
export function kvConfigCache(kv: KeyValue): ConfigCache {
  return {
    get: async (version) => {
      const e = await kv.get(NS, version);
      return e && (revive(e.value) as ResolvedFunctionConfig);
    },
    set: async (version, config) => {
      await kv.set(NS, version, encode(config), { ttlMs: TTL_MS });
    },
  };
}

function encode(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === "number" && !Number.isFinite(v) ? { $number: String(v) } : v,
    ),
  );
}

function revive(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revive);
  if (typeof value !== "object" || value === null) return value;
  const o = value as Record<string, unknown>;
  if (Object.keys(o).length === 1 && typeof o.$number === "string") return Number(o.$number);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revive(v)]));
}
