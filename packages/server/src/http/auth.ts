import type { FastifyReply, FastifyRequest } from "fastify";
import type { Authenticator } from "../auth/authenticator.js";
import { bearer } from "../auth/authenticator.js";
import type { Principal } from "../auth/scopes.js";
import { hasScope, SCOPES } from "../auth/scopes.js";
import { problem, sendProblem } from "./problem.js";

/**
 * Who must present credentials. "all": the whole `/v1` API and private routes (`eddy start`).
 * "routes": private gateway routes only, the API is open (the default of `startEddy`: tests and
 * embedding). "none": nothing, not even private routes (`eddy dev`, which says so loudly).
 * Deploys and rollbacks need the admin scope in every mode.
 */
export type AuthMode = "all" | "routes" | "none";

/**
 * The scope each `/v1` route needs in "all" mode; a route not listed needs `admin`. `null`: the
 * route checks for itself (deploys always need admin; an async request's status is readable by
 * whoever may call its route).
 */
export const API_SCOPES: Readonly<Record<string, string | null>> = {
  "POST /v1/events": SCOPES.publish,
  "POST /v1/queues/:name/messages": SCOPES.publish,
  "POST /v1/queues/:name/receive": SCOPES.consume,
  "DELETE /v1/queues/:name/messages/:receipt": SCOPES.consume,
  "POST /v1/queues/:name/messages/:receipt/visibility": SCOPES.consume,
  "GET /v1/invocations/:id": null,
  "POST /v1/workflows/:name/runs": SCOPES.invoke,
  "GET /v1/openapi.json": SCOPES.invoke,
  "POST /v1/deploy": null,
  "POST /v1/functions/:name/rollback": null,
};

const principals = new WeakMap<object, Promise<Principal | undefined>>();

/** The principal of a request's bearer token (authenticated once per request), or undefined. */
export function principalOf(auth: Authenticator, headers: { authorization?: string | undefined }) {
  let p = principals.get(headers);
  if (!p) {
    const token = bearer(headers.authorization);
    p = token === undefined ? Promise.resolve(undefined) : auth.authenticate(token);
    principals.set(headers, p);
  }
  return p;
}

/**
 * Checks `scope` for a request; resolves undefined when it holds, else the problem to answer:
 * 401 without valid credentials, 403 with credentials that lack the scope.
 */
export async function checkScope(
  auth: Authenticator,
  headers: { authorization?: string | undefined },
  scope: string,
) {
  const principal = await principalOf(auth, headers);
  if (hasScope(principal, scope)) return undefined;
  if (principal) {
    return problem("EDDY_FORBIDDEN", "Forbidden", `this key or token lacks the scope "${scope}"`);
  }
  return problem(
    "EDDY_UNAUTHORIZED",
    "Unauthorized",
    headers.authorization === undefined
      ? `send Authorization: Bearer <key or token> with the scope "${scope}" (eddy keys create)`
      : "the bearer token is not a valid key or token of this server",
  );
}

/**
 * An `onRequest` hook enforcing {@link API_SCOPES} on `/v1` ("all" mode). Health, readiness and
 * metrics stay open: load balancers and Prometheus call them without credentials.
 */
export function apiAuthHook(auth: Authenticator) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const url = req.routeOptions.url;
    if (url === undefined || !url.startsWith("/v1/")) return;
    const need = API_SCOPES[`${req.method} ${url}`];
    if (need === null) return;
    const refused = await checkScope(auth, req.headers, need ?? SCOPES.admin);
    if (refused) return unauthorized(reply, refused);
  };
}

/**
 * A Fastify `preHandler` that lets a request through only with a bearer token that has `scope`:
 * 401 without valid credentials, 403 when the server has none configured (the action is disabled).
 *
 * @example
 * app.post("/v1/deploy", { preHandler: requireScope(auth, "admin") }, handler);
 */
export function requireScope(auth: Authenticator, scope: string) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await auth.configured())) {
      return sendProblem(
        reply,
        problem(
          "EDDY_ADMIN_KEY_NOT_SET",
          "Deploys are disabled",
          "this server has no admin key, so it takes no deploys over HTTP; start it with --admin-key <key> or EDDY_ADMIN_KEY=<key> (16+ characters)",
        ),
      );
    }
    const refused = await checkScope(auth, req.headers, scope);
    if (refused) return unauthorized(reply, refused);
  };
}

function unauthorized(reply: FastifyReply, doc: ReturnType<typeof problem>) {
  if (doc.status === 401) reply.header("www-authenticate", 'Bearer realm="eddy"');
  return sendProblem(reply, doc);
}
