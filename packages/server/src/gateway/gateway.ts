import type { IncomingMessage, ServerResponse } from "node:http";
import { RESERVED_PATHS, uuidv7 } from "eddy/internal";
import type { Authenticator } from "../auth/authenticator.js";
import type { Principal } from "../auth/scopes.js";
import { hasScope, SCOPES } from "../auth/scopes.js";
import type { Engine } from "../engine.js";
import type { AuthMode } from "../http/auth.js";
import { principalOf } from "../http/auth.js";
import { problem } from "../http/problem.js";
import type { Logger } from "../observability/logger.js";
import type { HttpResponseData } from "../runtime/protocol.js";
import { asyncRequest, REQUESTS_NS, STATUS_TTL_MS } from "./async-requests.js";
import { ResponseCache, requestCacheControl, responseTtl } from "./cache.js";
import type { CallbackTargets } from "./callback-target.js";
import { corsHeaders, preflightHeaders } from "./cors.js";
import { GatewayMetrics } from "./metrics.js";
import { TokenBuckets } from "./rate-limit.js";
import { clientAddress, readBody, requestData } from "./request-data.js";
import type { FlatHeaders } from "./respond.js";
import { functionHeaders, send, sendProblem } from "./respond.js";
import type { GatewayRoute, RouteMatch, RouteTable } from "./routes.js";
import type { HttpKind } from "../triggers/http/index.js";
import { httpKindOf } from "../triggers/http/index.js";
import { invokeSync } from "./sync.js";

const CACHE_INVALIDATE = "cache.invalidate";

/** Options of the gateway. */
export interface GatewayOptions {
  auth: Authenticator;
  mode: AuthMode;
  /** Largest request body of a route that sets no `maxBody`. Default 1 MiB. */
  maxBodyBytes: number;
  /** Largest body of an async request (it is stored as an event). */
  maxAsyncBodyBytes: number;
  /** Largest response body a sync route may answer with (502 beyond). Default 6 MiB, as Lambda's. */
  maxResponseBytes: number;
  /** True once shutdown began. */
  closing: () => boolean;
  /** Believe `X-Forwarded-For/-Proto/-Host` (behind a reverse proxy). Default false. */
  trustProxy: boolean;
  /** Record every synchronous request (true), or only failed ones (false). */
  recordSync: boolean;
  /** Bytes of the response cache. */
  cacheBytes?: number;
  /** Where callbacks may go: a URL it refuses is refused with the request. */
  callbackTargets: CallbackTargets;
  log: Logger;
}

/**
 * The API gateway: serves the deployed functions' routes on the same port as the API, in front of
 * Fastify (which keeps `/v1`, `/metrics`, `/healthz`, `/readyz`). It works on `node:http` directly
 * because its routes change with every deploy (Fastify's cannot after start) and because its
 * hot path is measured against a bare `node:http` server (bench/gateway.js).
 *
 * Per request: route → CORS preflight → auth → rate limit → cache → body (size, schema) → the
 * function, in its sandbox (sync) or as a durable delivery (async, 202 + status URL).
 */
export class Gateway {
  readonly cache: ResponseCache;
  readonly #engine: Engine;
  /** The HTTP trigger kind, whose route table each deploy swaps. */
  readonly #http: HttpKind;
  readonly #o: GatewayOptions;
  readonly #buckets = new WeakMap<GatewayRoute, TokenBuckets>();
  readonly #metrics: GatewayMetrics | undefined;

  constructor(engine: Engine, options: GatewayOptions) {
    this.#engine = engine;
    this.#http = httpKindOf(engine);
    this.#o = options;
    this.cache = new ResponseCache(options.cacheBytes);
    if (engine.observer.enabled) this.#metrics = new GatewayMetrics(engine.observer.metrics.registry);
    // New code answers differently: drop what the old version's responses left in the cache.
    engine.onDeploy((changed) => {
      for (const fn of changed) this.cache.invalidate(fn);
    });
    engine.backend.capabilities.broadcast?.listen(CACHE_INVALIDATE, (m) => {
      const { fn, path } = m as { fn?: string; path?: string };
      this.cache.invalidate(fn, path);
    });
  }

  /**
   * Drops cached responses of `fn` (every function if undefined) under `pathPrefix`, here and, on a
   * cluster, on the other nodes too (a broadcast: best effort; a node that misses it keeps its
   * entries until their TTL). Resolves how many entries this node dropped.
   */
  invalidate(fn?: string, pathPrefix?: string): number {
    this.#engine.backend.capabilities.broadcast?.send(CACHE_INVALIDATE, { fn, path: pathPrefix });
    return this.cache.invalidate(fn, pathPrefix);
  }

  /** The routes of the running functions. */
  get routes(): RouteTable {
    return this.#http.routes;
  }

  /** Serves `req` if it is for a route and returns true; false leaves it to the API. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (reserved(path)) return false;
    const table = this.#http.routes;
    const method = req.method ?? "GET";
    const match = table.find(method, path);
    if (!match) {
      const methods = table.methodsAt(path);
      if (methods.length === 0) return false;
      if (method === "OPTIONS" && this.#preflight(req, res, methods)) return true;
      sendProblem(
        res,
        problem("EDDY_METHOD_NOT_ALLOWED", "Method not allowed", `${method} is not served at ${path}`),
        ["allow", methods.map((m) => m.method).join(", ")],
      );
      return true;
    }
    const t0 = this.#metrics ? performance.now() : 0;
    this.#serve(req, res, match, path, q < 0 ? "" : url.slice(q + 1)).then(
      // Every way out of #serve has written its response by the time it resolves.
      () => this.#metrics?.request(match.route.name, res.statusCode, (performance.now() - t0) / 1000),
      (err: unknown) => {
        this.#o.log.error({ err, route: match.route.name }, "gateway request failed");
        if (!res.headersSent)
          sendProblem(res, problem("EDDY_INTERNAL", "Internal error", "the gateway failed; see its logs"));
        else res.destroy();
        this.#metrics?.request(match.route.name, 500, (performance.now() - t0) / 1000);
      },
    );
    return true;
  }

  async #serve(req: IncomingMessage, res: ServerResponse, match: RouteMatch, path: string, query: string) {
    const { route, params } = match;
    const t = route.trigger;
    const head = req.method === "HEAD";
    const out: FlatHeaders = [];
    corsHeaders(t.cors, req.headers.origin, out);
    const fail = (doc: ReturnType<typeof problem>, extra: FlatHeaders = []) =>
      sendProblem(res, doc, [...out, ...extra], head);
    if (this.#o.closing()) {
      return fail(
        problem(
          "EDDY_SHUTTING_DOWN",
          "Shutting down",
          "this server is stopping; retry in a moment or elsewhere",
        ),
        ["connection", "close"],
      );
    }
    // Credentials sent to a public route are read too: to rate-limit per key, and to keep an
    // Eddy key from reaching the function.
    const mustAuth = !t.public && this.#o.mode !== "none";
    const principal: Principal | undefined =
      mustAuth || req.headers.authorization !== undefined
        ? await principalOf(this.#o.auth, req.headers)
        : undefined;
    if (mustAuth) {
      const refused = refusal(principal, route, req.headers.authorization !== undefined);
      if (refused)
        return fail(refused, refused.status === 401 ? ["www-authenticate", 'Bearer realm="eddy"'] : []);
    }
    if (t.rateLimit) {
      let buckets = this.#buckets.get(route);
      if (!buckets)
        this.#buckets.set(
          route,
          (buckets = new TokenBuckets(t.rateLimit.limit, t.rateLimit.periodMs, t.rateLimit.burst)),
        );
      const who =
        t.rateLimit.by === "key" && principal ? principal.id : clientAddress(req, this.#o.trustProxy);
      const waitMs = buckets.take(who, this.#engine.clock.now());
      if (waitMs > 0) {
        const seconds = Math.max(1, Math.ceil(waitMs / 1000));
        return fail(
          problem(
            "EDDY_RATE_LIMITED",
            "Too many requests",
            `${route.name} allows ${t.rateLimit.limit} requests per ${t.rateLimit.periodMs} ms per caller; retry in ${seconds} s`,
          ),
          ["retry-after", seconds],
        );
      }
    }
    if (route.validateQuery) {
      const errors = route.validateQuery(queryObject(query));
      if (errors)
        return fail(
          problem(
            "EDDY_INVALID_REQUEST",
            "Invalid query",
            "the query string does not match the route's schema",
            { errors },
          ),
        );
    }
    let cacheKey: string | undefined;
    let store = false;
    if (t.cache) {
      const cc = requestCacheControl(req.headers["cache-control"]);
      cacheKey = ResponseCache.key(route, req, path, query, principal?.id);
      store = cc.store && !head;
      const hit = cc.lookup ? this.cache.get(cacheKey, this.#engine.clock.now()) : undefined;
      this.#metrics?.cache(route.name, hit ? "hit" : "miss");
      if (hit) {
        const age = Math.floor((this.#engine.clock.now() - hit.storedAt) / 1000);
        return send(res, hit.status, [...hit.headers, ...out, "age", age, "x-cache", "HIT"], hit.body, head);
      }
    }
    const limit =
      t.mode === "async"
        ? Math.min(t.maxBodyBytes ?? this.#o.maxAsyncBodyBytes, this.#o.maxAsyncBodyBytes)
        : (t.maxBodyBytes ?? this.#o.maxBodyBytes);
    const body = await readBody(req, limit);
    if (body === "aborted") return void res.destroy();
    if (body === "too-large") {
      return fail(
        problem(
          "EDDY_PAYLOAD_TOO_LARGE",
          "Request body too large",
          `${route.name} takes bodies of at most ${limit} bytes`,
        ),
        ["connection", "close"],
      );
    }
    if (route.validateBody) {
      const refused = checkBody(route, req.headers["content-type"], body);
      if (refused) return fail(refused);
    }
    const requestId = uuidv7();
    // An API key or the admin key is Eddy's secret, not the function's; a JWT is the caller's identity.
    const dropAuthorization = principal !== undefined && !principal.id.startsWith("jwt:");
    const data = requestData(req, req.url ?? "/", body, route.name, params, requestId, {
      trustProxy: this.#o.trustProxy,
      dropAuthorization,
    });
    if (t.mode === "async") return this.#accept(req, res, route, data, out);
    const fn = this.#engine.deployedFunction(route.fn);
    if (!fn)
      return fail(problem("EDDY_NOT_FOUND", "Not found", `function ${route.fn} is no longer deployed`));
    const timeoutMs = Math.min(t.timeoutMs ?? fn.config.timeoutMs, fn.config.timeoutMs);
    const result = await invokeSync(this.#engine, fn, data, {
      timeoutMs,
      record: this.#o.recordSync,
      maxResponseBytes: this.#o.maxResponseBytes,
      traceparent: req.headers.traceparent,
    });
    out.push("eddy-request-id", requestId);
    if (result.kind === "timeout") {
      return fail(
        problem(
          "EDDY_GATEWAY_TIMEOUT",
          "Gateway timeout",
          `${route.name} did not answer within ${timeoutMs} ms`,
          { invocationId: requestId },
        ),
      );
    }
    if (result.kind === "failed") {
      const detail =
        this.#o.mode === "none"
          ? `${result.error.name}: ${result.error.message}`
          : `the function failed; its record is /v1/invocations/${requestId}`;
      return fail(problem("EDDY_FUNCTION_FAILED", "Function failed", detail, { invocationId: requestId }));
    }
    const r = result.response;
    const bodyBytes = responseBody(r);
    if (cacheKey !== undefined && store) {
      const ttl = responseTtl(t.cache!.ttlMs, r.status, r.headers);
      if (ttl > 0) {
        const headers = functionHeaders(r.headers, []) as string[];
        const now = this.#engine.clock.now();
        this.cache.set(cacheKey, {
          fn: route.fn,
          path,
          status: r.status,
          headers,
          body: bodyBytes,
          storedAt: now,
          expiresAt: now + ttl,
          bytes: (bodyBytes?.length ?? 0) + 256,
        });
      }
    }
    if (cacheKey !== undefined) out.push("x-cache", "MISS");
    send(res, r.status, functionHeaders(r.headers, out), bodyBytes, head);
  }

  async #accept(
    req: IncomingMessage,
    res: ServerResponse,
    route: GatewayRoute,
    data: ReturnType<typeof requestData>,
    out: FlatHeaders,
  ) {
    const t = route.trigger;
    const fn = this.#engine.deployedFunction(route.fn);
    if (!fn)
      return sendProblem(
        res,
        problem("EDDY_NOT_FOUND", "Not found", `function ${route.fn} is no longer deployed`),
        out,
      );
    const callback = req.headers["eddy-callback"];
    if (callback !== undefined) {
      if (!t.callback) {
        return sendProblem(
          res,
          problem(
            "EDDY_INVALID_REQUEST",
            "Bad request",
            `${route.name} takes no Eddy-Callback (declare it with callback: true)`,
          ),
          out,
        );
      }
      if (typeof callback !== "string" || !/^https?:\/\/\S+$/.test(callback)) {
        return sendProblem(
          res,
          problem("EDDY_INVALID_REQUEST", "Bad request", "Eddy-Callback must be one http(s) URL"),
          out,
        );
      }
      const refused = this.#o.callbackTargets.refuseUrl(callback);
      if (refused) {
        return sendProblem(
          res,
          problem(
            "EDDY_CALLBACK_NOT_ALLOWED",
            "Callback not allowed",
            `Eddy-Callback ${callback} is refused: ${refused}; callbacks go to public addresses unless the operator allows a block (gateway.callbackAllow, --callback-allow)`,
          ),
          out,
        );
      }
    }
    const { event, status } = asyncRequest(
      route.fn,
      {
        request: data,
        public: t.public,
        ...(t.scopes ? { scopes: t.scopes } : {}),
        ...(typeof callback === "string" ? { callback } : {}),
      },
      this.#engine.clock.now(),
    );
    // The status first: the URL answers as soon as the caller has it. A crash between the two
    // writes leaves a "pending" status that expires; the caller got no 202 and sends again.
    await this.#engine.backend.kv.set(REQUESTS_NS, status.id, status, { ttlMs: STATUS_TTL_MS });
    // The caller's trace (W3C traceparent header) continues through the delivery.
    const entry = {
      event,
      dedupKey: `${event.source}\u0000${event.id}`,
      deliveries: [fn.plan.delivery(event)],
    };
    await this.#engine.ingestor.appendEntries(
      this.#engine.ingestor.traced([entry], req.headers.traceparent as string | undefined),
    );
    const location = `/v1/invocations/${status.id}`;
    const body = JSON.stringify({ id: status.id, status: "pending", statusUrl: location });
    send(
      res,
      202,
      [...out, "location", location, "eddy-request-id", status.id, "content-type", "application/json"],
      body,
    );
  }

  /** Answers a CORS preflight; false when no route at the path has CORS for the asked method. */
  #preflight(
    req: IncomingMessage,
    res: ServerResponse,
    methods: { method: string; match: RouteMatch }[],
  ): boolean {
    const asked = req.headers["access-control-request-method"];
    const origin = req.headers.origin;
    const target = methods.find((m) => m.method === asked)?.match.route.trigger.cors;
    if (!target || origin === undefined) return false;
    const allowed = methods.filter((m) => m.match.route.trigger.cors).map((m) => m.method);
    const headers = preflightHeaders(target, origin, allowed, req.headers["access-control-request-headers"]);
    send(res, 204, headers ?? [], undefined);
    return true;
  }
}

/** Why a caller may not call a private route, or undefined if it may. */
function refusal(principal: Principal | undefined, route: GatewayRoute, sentCredentials: boolean) {
  if (hasScope(principal, SCOPES.invoke) || route.trigger.scopes?.some((s) => principal?.scopes.has(s)))
    return undefined;
  if (principal) {
    const scopes = [SCOPES.invoke, ...(route.trigger.scopes ?? [])].map((s) => `"${s}"`).join(" or ");
    return problem("EDDY_FORBIDDEN", "Forbidden", `${route.name} needs the scope ${scopes}`);
  }
  return problem(
    "EDDY_UNAUTHORIZED",
    "Unauthorized",
    sentCredentials
      ? "the bearer token is not a valid key or token of this server"
      : `${route.name} is private: send Authorization: Bearer <key or token>`,
  );
}

function checkBody(route: GatewayRoute, contentType: string | undefined, body: Buffer) {
  if (!/^application\/([^;]*\+)?json\b/i.test(contentType ?? "")) {
    return problem(
      "EDDY_UNSUPPORTED_MEDIA_TYPE",
      "Unsupported media type",
      `${route.name} takes a JSON body (Content-Type: application/json)`,
    );
  }
  let value: unknown;
  try {
    value = body.length === 0 ? undefined : JSON.parse(body.toString("utf8"));
  } catch (err) {
    return problem(
      "EDDY_INVALID_JSON",
      "Bad request",
      `the body is not valid JSON: ${(err as Error).message}`,
    );
  }
  const errors = route.validateBody!(value);
  return errors
    ? problem("EDDY_INVALID_REQUEST", "Invalid body", "the body does not match the route's schema", {
        errors,
      })
    : undefined;
}

/** A query string as JSON Schema sees it: repeated parameters become arrays. */
function queryObject(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(query)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

function responseBody(r: HttpResponseData): Buffer | undefined {
  if (r.body === undefined) return undefined;
  return r.bodyEncoding === "base64" ? Buffer.from(r.body, "base64") : Buffer.from(r.body);
}

function reserved(path: string): boolean {
  for (const r of RESERVED_PATHS) {
    if (path.startsWith(r) && (path.length === r.length || path[r.length] === "/" || path[r.length] === "?"))
      return true;
  }
  return false;
}
