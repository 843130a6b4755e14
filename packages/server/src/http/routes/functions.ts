import type { FastifyPluginAsync } from "fastify";
import type { FunctionDetail, FunctionInfo, FunctionsResponse, RuntimeResponse } from "eddy";
import type { Deployer } from "../../deploy/deployer.js";
import type { Engine, FunctionView } from "../../engine.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

type GetRoute = { Params: { name: string }; Reply: Answer<FunctionDetail> };

/**
 * `GET /v1/functions` and `GET /v1/functions/:name` (what is deployed, with queue, pool and cold
 * start state; one function also lists its versions), and `GET /v1/runtime` (the blank sandboxes).
 */
export const functionRoutes: FastifyPluginAsync<{ engine: Engine; deployer: Deployer }> = async (
  app,
  { engine, deployer },
) => {
  const view = async (f: FunctionView): Promise<FunctionInfo> => ({
    name: f.name,
    file: f.file,
    version: f.version,
    description: f.config.description,
    triggers: f.config.triggers,
    retries: f.config.retries,
    timeoutMs: f.config.timeoutMs,
    memoryMb: f.config.memoryMb,
    concurrency: f.config.concurrency,
    isolation: f.pool.kind,
    compat: f.config.compat,
    emits: f.config.emits,
    sends: f.config.sends,
    pool: f.pool,
    inFlight: f.inFlight,
    deliveries: await engine.backend.queue.counts(f.name),
  });

  app.get<{ Reply: FunctionsResponse }>("/v1/functions", async () => ({
    functions: await Promise.all(engine.functions().map(view)),
  }));

  app.get<GetRoute>("/v1/functions/:name", async (req, reply) => {
    const f = engine.function(req.params.name);
    if (!f)
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such function", `no function named "${req.params.name}" is deployed`),
      );
    const versions = (await deployer.history(f.name)).map((v, i, all) => ({
      ...v,
      running: i === all.length - 1,
    }));
    return { ...(await view(f)), versions: versions.reverse() };
  });

  app.get<{ Reply: RuntimeResponse }>("/v1/runtime", async () => ({ blankSandboxes: engine.blanks.state() }));
};
