import type { FastifyPluginAsync } from "fastify";
import type { GraphParams, GraphResponse } from "eddy";
import type { Query } from "eddy/internal";
import type { Engine } from "../../engine.js";
import { InvalidRequestError } from "../../errors/http.js";
import { buildGraph } from "../../graph/build.js";
import type { Answer } from "../reply.js";
import { parseTime } from "../time.js";

/** Records read for observed edges by default, and at most: the query's cost is bounded by it. */
export const GRAPH_RECORDS = { default: 1_000, max: 10_000 } as const;

/**
 * `GET /v1/graph?since=&limit=`: the choreography map. Declared edges come from the running
 * configurations; observed ones from the newest `limit` records since `since` that published
 * something (`records.emissions`).
 */
export const graphRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<{ Querystring: Query<GraphParams>; Reply: Answer<GraphResponse> }>("/v1/graph", async (req) => {
    const since = parseTime(req.query.since ?? "24h", engine.clock.now());
    if (since === undefined) {
      throw new InvalidRequestError('since is a time: "24h" (ago), an ISO 8601 date, or epoch ms');
    }
    const limit = req.query.limit === undefined ? GRAPH_RECORDS.default : Number(req.query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > GRAPH_RECORDS.max) {
      throw new InvalidRequestError(
        `limit must be an integer from 1 to ${GRAPH_RECORDS.max}, got ${JSON.stringify(req.query.limit)}`,
      );
    }
    const [observed, queues] = await Promise.all([
      engine.backend.records.emissions({ since, limit }),
      engine.queues.list(),
    ]);
    const graph = buildGraph({
      units: engine.functions().map((f) => ({
        kind: f.config.workflow ? "workflow" : "function",
        name: f.name,
        config: f.config,
      })),
      queues: queues.map((q) => q.name),
      observed: observed.rows,
    });
    return { ...graph, observed: { since, records: observed.records, truncated: observed.truncated } };
  });
};
