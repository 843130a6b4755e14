/** Functions bound to HTTP routes: what their handler gets, and what their configuration may hold. */
import type { FunctionConfig, FunctionContext } from "./function.js";
import type { HttpTrigger } from "./triggers/index.js";

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
