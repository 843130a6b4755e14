import { InvalidFunctionConfigError } from "../errors.js";
import type { HttpTrigger, HttpTriggerOptions } from "./http-route.js";
import { httpTrigger } from "./http-route.js";
import type { TriggerKind } from "./kind.js";

/**
 * `on.http`: a route of the API gateway. An HTTP function gets a `Request`, not an event, so its
 * triggers are all `on.http` and the options that only make sense for events are refused; its
 * sandboxes run 16 requests at once unless `concurrency.perSandbox` says otherwise.
 */
export const http = {
  kind: "http",
  /**
   * Binds a function to an HTTP route of the API gateway. The handler gets a web-standard
   * `Request` (path parameters in `ctx.params`) and returns a `Response` or a plain value (sent as
   * JSON). Routes are private (a key or token is needed) unless `public: true`. In `mode: "async"`
   * the caller gets 202 and `Location: /v1/invocations/ID` at once, and the function runs as a
   * durable delivery, retried as its `retries` say.
   *
   * @example
   * on.http("GET /orders/:id", { cache: { ttl: "30s" } })
   * on.http("POST /reports", { mode: "async", schema: { body: { type: "object", required: ["month"] } } })
   */
  on(route: string, options: HttpTriggerOptions = {}): HttpTrigger {
    return httpTrigger(route, options);
  },
  rebuild: (t) =>
    httpTrigger(`${String(t.method)} ${String(t.path)}`, httpOptions(t as unknown as HttpTrigger)),
  // A trigger that did not come from on.http (a Lambda-style config written by hand) is checked too.
  checkFunction(config, triggers) {
    if (triggers.length !== config.triggers.length) {
      throw new InvalidFunctionConfigError(
        "triggers",
        "an HTTP function (on.http) gets a Request, not an event: give it only on.http triggers",
      );
    }
    for (const key of ["batch", "debounce", "cancelOn", "priority"] as const) {
      if (config[key] !== undefined) {
        throw new InvalidFunctionConfigError(key, "does not apply to an HTTP function (on.http)");
      }
    }
    for (const t of triggers) httpTrigger(`${t.method} ${t.path}`, { mode: t.mode });
  },
  perSandbox: 16,
} satisfies TriggerKind<HttpTrigger>;

/** The options of `on.http` that resolve to `t`. */
function httpOptions(t: HttpTrigger): HttpTriggerOptions {
  const cors = t.cors as Partial<HttpTrigger["cors"]> | undefined;
  return {
    mode: t.mode,
    public: t.public,
    scopes: t.scopes,
    schema: t.schema,
    maxBody: t.maxBodyBytes,
    timeout: t.timeoutMs,
    cors: cors && {
      origins: cors.origins!,
      headers: cors.headers,
      exposeHeaders: cors.exposeHeaders,
      credentials: cors.credentials,
      maxAge: cors.maxAgeS === undefined ? undefined : cors.maxAgeS * 1000,
    },
    cache: t.cache && {
      ttl: t.cache.ttlMs,
      headers: t.cache.headers,
      query: t.cache.query,
      shared: t.cache.shared,
    },
    rateLimit: t.rateLimit && {
      limit: t.rateLimit.limit,
      period: t.rateLimit.periodMs,
      burst: t.rateLimit.burst,
      by: t.rateLimit.by,
    },
    callback: t.callback,
    summary: t.summary,
    description: t.description,
  };
}
