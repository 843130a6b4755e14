import type { FastifyPluginAsync } from "fastify";
import type { HealthResponse } from "eddy";
import type { Engine } from "../../engine.js";

/** `GET /healthz`: the process is up and serving. */
export const healthRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<{ Reply: HealthResponse }>("/healthz", async () => ({
    status: "ok",
    backend: engine.backend.name,
    functions: engine.functions().length,
  }));
};
