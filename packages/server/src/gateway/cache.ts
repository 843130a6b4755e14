import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { GatewayRoute } from "./routes.js";

/** A cached response. */
export interface CachedResponse {
  fn: string;
  path: string;
  status: number;
  /** The function's headers (flat), without the gateway's own. */
  headers: string[];
  body: Buffer | undefined;
  storedAt: number;
  expiresAt: number;
  bytes: number;
}

/** Default size of the response cache of one node. */
export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

/**
 * The gateway's response cache, per node, in memory: least recently used entries go first once
 * `maxBytes` is used. Routes opt in (`on.http("GET …", { cache: { ttl } })`); the key is the
 * route, the path, the query (all of it, or the listed parameters), the listed request headers
 * and, unless the route says `shared`, the caller. Entries hold GET responses only: a HEAD is
 * answered from them but never stores one (its response has no body to give a GET).
 */
export class ResponseCache {
  readonly #maxBytes: number;
  readonly #entries = new Map<string, CachedResponse>();
  #bytes = 0;

  constructor(maxBytes = DEFAULT_CACHE_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /**
   * The key of a request to a cached route. `caller` is who the credentials say (a principal id);
   * without one, a request's own Authorization header stands for the caller, since the function
   * may read it.
   */
  static key(
    route: GatewayRoute,
    req: IncomingMessage,
    path: string,
    query: string,
    caller: string | undefined,
  ): string {
    const c = route.trigger.cache!;
    let q = query;
    if (c.query) {
      const params = new URLSearchParams(query);
      q = c.query.map((name) => `${name}=${params.getAll(name).join(",")}`).join("&");
    }
    let key = `${route.fn}\0${route.name}\0${path}\0${q}`;
    for (const h of c.headers ?? []) key += `\0${String(req.headers[h] ?? "")}`;
    if (!c.shared) key += `\0${callerKey(caller, req.headers.authorization)}`;
    return key;
  }

  get(key: string, now: number): CachedResponse | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    this.#entries.delete(key);
    if (e.expiresAt <= now) {
      this.#bytes -= e.bytes;
      return undefined;
    }
    this.#entries.set(key, e); // most recently used last
    return e;
  }

  set(key: string, entry: CachedResponse): void {
    if (entry.bytes > this.#maxBytes / 8) return; // one response may not push out most of the cache
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.bytes;
    }
    this.#entries.set(key, entry);
    this.#bytes += entry.bytes;
    for (const [k, e] of this.#entries) {
      if (this.#bytes <= this.#maxBytes) break;
      this.#entries.delete(k);
      this.#bytes -= e.bytes;
    }
  }

  /** Drops the entries of a function (all functions if undefined) under a path prefix; resolves how many. */
  invalidate(fn?: string, pathPrefix?: string): number {
    let n = 0;
    for (const [k, e] of this.#entries) {
      if ((fn === undefined || e.fn === fn) && (pathPrefix === undefined || e.path.startsWith(pathPrefix))) {
        this.#entries.delete(k);
        this.#bytes -= e.bytes;
        n++;
      }
    }
    return n;
  }

  /** Entries and bytes in use. */
  stats(): { entries: number; bytes: number; maxBytes: number } {
    return { entries: this.#entries.size, bytes: this.#bytes, maxBytes: this.#maxBytes };
  }
}

/** The caller part of a key: a principal id, or a digest of an unrecognised Authorization header. */
function callerKey(caller: string | undefined, authorization: string | undefined): string {
  if (caller !== undefined) return caller;
  if (authorization === undefined) return "";
  return `auth:${createHash("sha256").update(authorization).digest("base64url")}`;
}

/** What a request's `Cache-Control` allows: serve from the cache, store the response. */
export function requestCacheControl(header: string | undefined): { lookup: boolean; store: boolean } {
  if (header === undefined) return { lookup: true, store: true };
  const h = header.toLowerCase();
  const noStore = h.includes("no-store");
  return { lookup: !noStore && !h.includes("no-cache") && !/max-age\s*=\s*0\b/.test(h), store: !noStore };
}

/**
 * How long a response may be cached, honouring its `Cache-Control` (`no-store`, `private` and
 * `no-cache` forbid it; `s-maxage`, else `max-age`, shortens the route's TTL), or 0 for never.
 * Responses that set cookies are never cached.
 */
export function responseTtl(routeTtlMs: number, status: number, headers: [string, string][]): number {
  if (status < 200 || status >= 300 || status === 206) return 0;
  let ttl = routeTtlMs;
  for (const [k, v] of headers) {
    const name = k.toLowerCase();
    if (name === "set-cookie") return 0;
    if (name !== "cache-control") continue;
    const h = v.toLowerCase();
    if (/\b(no-store|private|no-cache)\b/.test(h)) return 0;
    const m = /\bs-maxage\s*=\s*(\d+)/.exec(h) ?? /\bmax-age\s*=\s*(\d+)/.exec(h);
    if (m) ttl = Math.min(ttl, Number(m[1]) * 1000);
  }
  return ttl;
}
