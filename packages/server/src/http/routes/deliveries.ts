import type { FastifyPluginAsync } from "fastify";
import type { DeliveriesParams, DeliveriesResponse } from "eddy";
import type { Query } from "eddy/internal";
import type { Engine } from "../../engine.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

/**
 * `GET /v1/deliveries?state=leased|overdue`: the admin view of work in progress, so that nothing
 * can sit stuck unseen — what is leased (and until when), and what is due but not running.
 */
export const deliveryRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<{ Querystring: Query<DeliveriesParams>; Reply: Answer<DeliveriesResponse> }>(
    "/v1/deliveries",
    async (req, reply) => {
      const q = req.query;
      if (q.state !== "leased" && q.state !== "overdue") {
        return sendProblem(reply, bad(`state must be "leased" or "overdue", got ${JSON.stringify(q.state)}`));
      }
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      const overdueMs = q.overdueMs === undefined ? 30_000 : Number(q.overdueMs);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
        return sendProblem(reply, bad("limit must be from 1 to 1000"));
      if (!Number.isFinite(overdueMs) || overdueMs < 0)
        return sendProblem(reply, bad("overdueMs must be a number >= 0"));
      const deliveries = await engine.backend.deadLetters.inspect({
        state: q.state,
        limit,
        overdueMs,
        ...(q.function !== undefined ? { fn: q.function } : {}),
      });
      return { deliveries };
    },
  );
};

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
