import type { Duration } from "../duration.js";
import { parseDuration } from "../duration.js";
import { InvalidFunctionConfigError } from "../errors.js";

/** Methods a route can bind; "ANY" binds every one of them but OPTIONS (kept for CORS preflights). */
export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS" | "ANY";

/** A JSON Schema (draft 2020-12), as plain JSON. */
export type JsonSchema = Record<string, unknown> | boolean;

/** CORS of a route, resolved. */
export interface HttpCors {
  /** Allowed origins, or ["*"]. */
  origins: string[];
  /** Request headers a browser may send (preflight `Access-Control-Allow-Headers`). Default: what it asks for. */
  headers?: string[];
  /** Response headers a browser may read. */
  exposeHeaders?: string[];
  /** Send cookies and `Authorization` cross-origin (then `*` is answered with the caller's origin). */
  credentials: boolean;
  /** How long a browser may cache a preflight, in seconds. */
  maxAgeS?: number;
}

/** Binds a function to an HTTP route of the API gateway. JSON only: what the server works with. */
export interface HttpTrigger {
  kind: "http";
  method: HttpMethod;
  /** `/orders/:id`: literal segments, `:name` parameters, and an optional final `*`. */
  path: string;
  /** "sync" (default): the caller gets the function's response. "async": 202 and a status URL. */
  mode: "sync" | "async";
  /** Callable without a key or token. Default false: routes are private. */
  public: boolean;
  /** A key or token with any one of these scopes may call the route (besides `functions:invoke` and `admin`). */
  scopes?: string[];
  /** JSON Schemas of the request: the body (JSON) and the query string (values coerced from strings). */
  schema?: { body?: JsonSchema; query?: JsonSchema };
  /** Largest request body; larger ones get 413. Default: the server's (1 MiB). */
  maxBodyBytes?: number;
  /** The caller gets 504 after this long (sync mode). Default: the function's timeout. */
  timeoutMs?: number;
  cors?: HttpCors;
  /**
   * Response cache (GET only): entries live `ttlMs`, keyed by path, query, the listed headers and,
   * unless `shared`, the caller (its key, token or Authorization header).
   */
  cache?: { ttlMs: number; headers?: string[]; query?: string[]; shared?: boolean };
  /** Token bucket per caller: `limit` requests per `periodMs`, plus `burst`; keyed by API key or client address. */
  rateLimit?: { limit: number; periodMs: number; burst: number; by: "key" | "ip" };
  /** Async mode: the caller may ask for a POST to a URL on completion (`Eddy-Callback` header). */
  callback?: boolean;
  summary?: string;
  description?: string;
}

/** Options of {@link on.http}, as users write them. */
export interface HttpTriggerOptions {
  mode?: "sync" | "async";
  public?: boolean;
  scopes?: string[];
  schema?: { body?: JsonSchema; query?: JsonSchema };
  /** Bytes, or "512kb", "2mb". */
  maxBody?: number | string;
  timeout?: Duration;
  /** true: any origin, no credentials. */
  cors?:
    | boolean
    | {
        origins: string | string[];
        headers?: string[];
        exposeHeaders?: string[];
        credentials?: boolean;
        maxAge?: Duration;
      };
  /**
   * Cache GET responses for `ttl`; vary on these request headers and only these query parameters
   * (default: all). Entries are per caller (per key, token or Authorization header) unless
   * `shared: true`, for responses that do not depend on who asks.
   */
  cache?: { ttl: Duration; headers?: string[]; query?: string[]; shared?: boolean };
  rateLimit?: { limit: number; period: Duration; burst?: number; by?: "key" | "ip" };
  callback?: boolean;
  summary?: string;
  description?: string;
}

const METHODS: readonly HttpMethod[] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "ANY"];
/** Paths of Eddy's own API: a route may not start with one. */
export const RESERVED_PATHS: readonly string[] = ["/v1", "/metrics", "/healthz", "/readyz"];
const SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]*|[A-Za-z0-9._~!$&'()+,;=@-]+)$/;
const HEADER = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(b|kb|mb)$/i;

/**
 * Parses `"GET /orders/:id"` and the options into an {@link HttpTrigger}; every mistake throws
 * {@link InvalidFunctionConfigError} naming the option (`http.path`, `http.cache.ttl`, …).
 */
export function httpTrigger(route: string, options: HttpTriggerOptions = {}): HttpTrigger {
  if (typeof route !== "string") {
    throw new InvalidFunctionConfigError("http", `must be "METHOD /path", got ${JSON.stringify(route)}`);
  }
  const [rawMethod, path, ...rest] = route.trim().split(/\s+/);
  const method = rawMethod?.toUpperCase() as HttpMethod;
  if (!METHODS.includes(method) || path === undefined || rest.length > 0) {
    throw new InvalidFunctionConfigError(
      "http.method",
      `the route must be "METHOD /path" with METHOD one of ${METHODS.join(", ")}; got ${JSON.stringify(route)}`,
    );
  }
  checkPath(path);
  const t: HttpTrigger = { kind: "http", method, path, mode: options.mode ?? "sync", public: false };
  if (t.mode !== "sync" && t.mode !== "async") {
    throw new InvalidFunctionConfigError(
      "http.mode",
      `must be "sync" or "async", got ${JSON.stringify(t.mode)}`,
    );
  }
  if (options.public !== undefined) t.public = bool(options.public, "http.public");
  if (options.scopes !== undefined) t.scopes = strings(options.scopes, "http.scopes", /^[\x21-\x7e]+$/);
  if (options.schema !== undefined) t.schema = schemas(options.schema);
  if (options.maxBody !== undefined) t.maxBodyBytes = size(options.maxBody, "http.maxBody");
  if (options.timeout !== undefined) t.timeoutMs = positive(options.timeout, "http.timeout");
  if (options.cors !== undefined && options.cors !== false) t.cors = cors(options.cors);
  if (options.cache !== undefined) {
    if (method !== "GET" || t.mode !== "sync") {
      throw new InvalidFunctionConfigError("http.cache", "only sync GET routes are cached");
    }
    t.cache = { ttlMs: positive(options.cache.ttl, "http.cache.ttl") };
    if (options.cache.headers !== undefined)
      t.cache.headers = strings(options.cache.headers, "http.cache.headers", HEADER).map((h) =>
        h.toLowerCase(),
      );
    if (options.cache.query !== undefined) t.cache.query = strings(options.cache.query, "http.cache.query");
    if (options.cache.shared !== undefined) t.cache.shared = bool(options.cache.shared, "http.cache.shared");
  }
  if (options.rateLimit !== undefined) t.rateLimit = rateLimit(options.rateLimit);
  if (options.callback !== undefined) {
    t.callback = bool(options.callback, "http.callback");
    if (t.callback && t.mode !== "async")
      throw new InvalidFunctionConfigError("http.callback", 'needs mode: "async"');
  }
  for (const key of ["summary", "description"] as const) {
    const v = options[key];
    if (v === undefined) continue;
    if (typeof v !== "string") throw new InvalidFunctionConfigError(`http.${key}`, "must be a string");
    t[key] = v;
  }
  return t;
}

function checkPath(path: string): void {
  const fail = (why: string) => {
    throw new InvalidFunctionConfigError("http.path", `${why}; got ${JSON.stringify(path)}`);
  };
  if (!path.startsWith("/")) fail('must start with "/"');
  if (path.length > 1) {
    const segments = path.slice(1).split("/");
    segments.forEach((s, i) => {
      if (s === "*" && i === segments.length - 1) return;
      if (!SEGMENT.test(s)) {
        fail(`segment ${i + 1} ("${s}") must be literal characters, ":name", or a final "*"`);
      }
    });
    const names = segments.filter((s) => s.startsWith(":"));
    if (new Set(names).size !== names.length) fail("a parameter name is used twice");
  }
  const reserved = RESERVED_PATHS.find((r) => path === r || path.startsWith(`${r}/`));
  if (reserved) fail(`${reserved} is Eddy's own API; choose another path`);
}

function schemas(value: unknown): { body?: JsonSchema; query?: JsonSchema } {
  if (typeof value !== "object" || value === null) {
    throw new InvalidFunctionConfigError("http.schema", "must be { body?, query? } of JSON Schemas");
  }
  const out: { body?: JsonSchema; query?: JsonSchema } = {};
  for (const [key, schema] of Object.entries(value)) {
    if (key !== "body" && key !== "query") {
      throw new InvalidFunctionConfigError(`http.schema.${key}`, 'only "body" and "query" are checked');
    }
    if (
      typeof schema !== "boolean" &&
      (typeof schema !== "object" || schema === null || Array.isArray(schema))
    ) {
      throw new InvalidFunctionConfigError(`http.schema.${key}`, "must be a JSON Schema (an object)");
    }
    // Through JSON: the configuration crosses the sandbox boundary and is cached as JSON.
    out[key] = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  }
  return out;
}

function cors(value: NonNullable<HttpTriggerOptions["cors"]>): HttpCors {
  if (value === true) return { origins: ["*"], credentials: false };
  if (typeof value !== "object" || value === null) {
    throw new InvalidFunctionConfigError("http.cors", "must be true or { origins, ... }");
  }
  const origins = strings(
    typeof value.origins === "string" ? [value.origins] : value.origins,
    "http.cors.origins",
    /^(\*|https?:\/\/[^/\s]+)$/,
  );
  const out: HttpCors = { origins, credentials: false };
  if (value.headers !== undefined) out.headers = strings(value.headers, "http.cors.headers", HEADER);
  if (value.exposeHeaders !== undefined)
    out.exposeHeaders = strings(value.exposeHeaders, "http.cors.exposeHeaders", HEADER);
  if (value.credentials !== undefined) out.credentials = bool(value.credentials, "http.cors.credentials");
  if (value.maxAge !== undefined) out.maxAgeS = Math.round(duration(value.maxAge, "http.cors.maxAge") / 1000);
  return out;
}

function rateLimit(
  value: NonNullable<HttpTriggerOptions["rateLimit"]>,
): NonNullable<HttpTrigger["rateLimit"]> {
  const r = value as Partial<typeof value>;
  const int = (v: unknown, path: string, min: number) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > 1_000_000) {
      throw new InvalidFunctionConfigError(
        path,
        `must be an integer from ${min} to 1000000, got ${JSON.stringify(v)}`,
      );
    }
    return v;
  };
  const by = r.by ?? "key";
  if (by !== "key" && by !== "ip") {
    throw new InvalidFunctionConfigError(
      "http.rateLimit.by",
      `must be "key" or "ip", got ${JSON.stringify(by)}`,
    );
  }
  return {
    limit: int(r.limit, "http.rateLimit.limit", 1),
    periodMs: positive(r.period, "http.rateLimit.period"),
    burst: int(r.burst ?? 0, "http.rateLimit.burst", 0),
    by,
  };
}

function size(value: unknown, path: string): number {
  if (typeof value === "number" && Number.isInteger(value) && value > 0) return value;
  const m = typeof value === "string" ? SIZE.exec(value.trim()) : null;
  if (m) {
    const unit = { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2]!.toLowerCase() as "b"];
    const bytes = Math.round(Number(m[1]) * unit);
    if (bytes > 0) return bytes;
  }
  throw new InvalidFunctionConfigError(
    path,
    `must be a number of bytes > 0 or a size like "512kb", "2mb"; got ${JSON.stringify(value)}`,
  );
}

function duration(value: unknown, path: string): number {
  try {
    return parseDuration(value, path);
  } catch (err) {
    throw new InvalidFunctionConfigError(path, (err as Error).message.replace(`${path} `, ""));
  }
}

function positive(value: unknown, path: string): number {
  const ms = duration(value, path);
  if (ms <= 0) throw new InvalidFunctionConfigError(path, "must be longer than 0");
  return ms;
}

function bool(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") {
    throw new InvalidFunctionConfigError(path, `must be true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

function strings(value: unknown, path: string, pattern?: RegExp): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || (pattern && !pattern.test(v)))) {
    throw new InvalidFunctionConfigError(
      path,
      `must be an array of valid strings, got ${JSON.stringify(value)}`,
    );
  }
  return [...(value as string[])];
}
