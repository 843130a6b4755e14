import type { FastifyPluginAsync } from "fastify";
import type { Engine } from "../../engine.js";
import { problem, sendProblem } from "../problem.js";

interface ListQuery {
  function?: string;
  status?: string;
  limit?: string;
  before?: string;
}

/** `GET /v1/invocations?function=NAME` and `GET /v1/invocations/:id`: the record of every attempt. */
export const invocationRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<{ Querystring: ListQuery }>("/v1/invocations", async (req, reply) => {
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

  app.get<{ Params: { id: string } }>("/v1/invocations/:id", async (req, reply) => {
    const rec = await engine.backend.records.getInvocation(req.params.id);
    if (!rec)
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such invocation", `no invocation ${req.params.id}`),
      );
    return rec;
  });
};

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
