/** Functions bound to HTTP routes: what their handler gets, and what their configuration may hold. */
import type { FunctionConfig, FunctionContext } from "./function.js";
import { InvalidFunctionConfigError } from "./errors.js";
import type { HttpTrigger } from "./http-trigger.js";
import { httpTrigger } from "./http-trigger.js";

/** What an HTTP function gets besides the `Request`. */
export interface HttpContext extends FunctionContext {
  /** Path parameters of the route (`:id` → `params.id`; a final `*` → `params["*"]`). */
  params: Record<string, string>;
  /** The route that matched, e.g. `GET /orders/:id`. */
  route: string;
  /** The gateway's id of this request: in async mode, the id of its status URL. */
  requestId: string;
}

/**
 * The code of an HTTP function: gets the request, returns a `Response`, or a plain value sent as
 * JSON (200; `undefined` gives 204). A throw fails the attempt: the caller gets 502 (sync), or the
 * request is retried (async).
 */
export type HttpHandler = (request: Request, ctx: HttpContext) => unknown;

/** The configuration of a function bound to HTTP routes only. */
export type HttpFunctionConfig = Omit<FunctionConfig, "triggers"> & { triggers: HttpTrigger[] };

/**
 * An HTTP function gets a `Request` (a Lambda-style one, API Gateway's event), not an event: its
 * triggers are all `on.http`, and options that only make sense for events are refused. A trigger
 * that did not come from `on.http` (a Lambda-style `config` written by hand) is checked the same way.
 */
export function checkHttpTriggers(config: FunctionConfig): void {
  const http = config.triggers.filter((t) => t.kind === "http");
  if (http.length === 0) return;
  if (http.length !== config.triggers.length) {
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
  for (const t of http) httpTrigger(`${t.method} ${t.path}`, { mode: t.mode });
}
