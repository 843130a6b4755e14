import type { FastifyPluginAsync } from "fastify";
import type { UsageParams, UsageResponse } from "eddy";
import type { Query } from "eddy/internal";
import type { Engine } from "../../engine.js";
import { priced } from "../../observability/usage.js";
import type { Pricing } from "../../observability/usage.js";
import { parseTime } from "../time.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

/** `GET /v1/usage?since=&until=`: invocations, GB-seconds and cost per function and in total. */
export const usageRoutes: FastifyPluginAsync<{ engine: Engine; pricing: Pricing }> = async (
  app,
  { engine, pricing },
) => {
  app.get<{ Querystring: Query<UsageParams>; Reply: Answer<UsageResponse> }>(
    "/v1/usage",
    async (req, reply) => {
      const now = engine.clock.now();
      const since = parseTime(req.query.since ?? "30d", now);
      const until = req.query.until === undefined ? now : parseTime(req.query.until, now);
      if (since === undefined || until === undefined) {
        return sendProblem(
          reply,
          problem(
            "EDDY_INVALID_REQUEST",
            "Bad request",
            'since and until are times: "24h" (ago), an ISO 8601 date, or epoch ms',
          ),
        );
      }
      await engine.meter.flush(); // this node's latest requests without records count too
      let rows = await engine.backend.records.usage(since, until);
      if (req.query.function) rows = rows.filter((r) => r.fn === req.query.function);
      const { functions, total } = priced(rows, pricing);
      return {
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        pricing,
        total,
        functions,
      };
    },
  );
};
