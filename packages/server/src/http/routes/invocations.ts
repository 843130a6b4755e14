import type { FastifyPluginAsync } from "fastify";
import type { AsyncRequestStatus, Invocation, InvocationsParams, InvocationsResponse } from "eddy";
import type { Query } from "eddy/internal";
import type { Authenticator } from "../../auth/authenticator.js";
import { hasScope, SCOPES } from "../../auth/scopes.js";
import type { Engine } from "../../engine.js";
import type { RequestStatus } from "../../gateway/async-requests.js";
import { REQUESTS_NS, statusDocument } from "../../gateway/async-requests.js";
import type { AuthMode } from "../auth.js";
import { checkScope, principalOf } from "../auth.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

type ListRoute = { Querystring: Query<InvocationsParams>; Reply: Answer<InvocationsResponse> };
type GetRoute = { Params: { id: string }; Reply: Answer<Invocation | AsyncRequestStatus> };

/**
 * `GET /v1/invocations?function=NAME` and `GET /v1/invocations/:id`: the record of every attempt.
 * The id of an async gateway request resolves too, from the moment it was accepted: to its status
 * (pending, succeeded with the result, failed with the error), readable by whoever may call its
 * route (anyone for a public route: the random id is the capability).
 */
export const invocationRoutes: FastifyPluginAsync<{
  engine: Engine;
  auth: Authenticator;
  authMode: AuthMode;
}> = async (app, { engine, auth, authMode }) => {
  app.get<ListRoute>("/v1/invocations", async (req, reply) => {
    const q = req.query;
    const limit = q.limit === undefined ? 50 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return sendProblem(
        reply,
        bad(`limit must be an integer from 1 to 1000, got ${JSON.stringify(q.limit)}`),
      );
    }
    if (q.status !== undefined && q.status !== "succeeded" && q.status !== "failed") {
      return sendProblem(
        reply,
        bad(`status must be "succeeded" or "failed", got ${JSON.stringify(q.status)}`),
      );
    }
    const before = q.before === undefined ? undefined : Number(q.before);
    if (before !== undefined && !Number.isFinite(before)) {
      return sendProblem(
        reply,
        bad(`before must be a time in epoch milliseconds, got ${JSON.stringify(q.before)}`),
      );
    }
    const invocations = await engine.backend.records.queryInvocations({
      fn: q.function,
      status: q.status,
      before,
      limit,
    });
    return { invocations };
  });

  app.get<GetRoute>("/v1/invocations/:id", async (req, reply) => {
    const rec = await engine.backend.records.getInvocation(req.params.id);
    if (rec) {
      const refused = authMode === "all" ? await checkScope(auth, req.headers, SCOPES.admin) : undefined;
      if (refused) return sendProblem(reply, refused);
      return rec;
    }
    const status = (await engine.backend.kv.get(REQUESTS_NS, req.params.id))?.value as
      RequestStatus | undefined;
    if (!status) {
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such invocation", `no invocation ${req.params.id}`),
      );
    }
    if (!status.public && authMode !== "none") {
      const principal = await principalOf(auth, req.headers);
      if (!hasScope(principal, SCOPES.invoke) && !status.scopes?.some((s) => principal?.scopes.has(s))) {
        const refused = await checkScope(auth, req.headers, SCOPES.invoke);
        if (refused) return sendProblem(reply, refused);
      }
    }
    return statusDocument(status);
  });
};

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
