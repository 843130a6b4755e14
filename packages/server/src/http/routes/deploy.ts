import type { FastifyPluginAsync } from "fastify";
import type { DeployChange, DeployRequest, DeployResponse, RollbackRequest } from "eddy";
import type { Unchecked } from "eddy/internal";
import type { Deployer } from "../../deploy/deployer.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { requireScope } from "../auth.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

/** Largest deploy upload: every bundle of an app. */
const MAX_DEPLOY_BYTES = 64 * 1024 * 1024;

/**
 * `POST /v1/deploy` (the whole app's bundles, all or nothing) and
 * `POST /v1/functions/:name/rollback` (`{ version? }`); both need the admin key.
 */
export const deployRoutes: FastifyPluginAsync<{ deployer: Deployer; auth: Authenticator }> = async (
  app,
  { deployer, auth },
) => {
  const preHandler = requireScope(auth, "admin");

  app.post<{ Body: Unchecked<DeployRequest>; Reply: Answer<DeployResponse> }>(
    "/v1/deploy",
    { preHandler, bodyLimit: MAX_DEPLOY_BYTES },
    async (req, reply) => {
      const functions = req.body?.functions;
      if (!Array.isArray(functions)) {
        return sendProblem(
          reply,
          problem(
            "EDDY_INVALID_REQUEST",
            "Bad request",
            'the body must be { "functions": [{ "file", "code" }] }',
          ),
        );
      }
      const { changes, warnings } = await deployer.upload(functions);
      return {
        functions: changes,
        ...(warnings.length > 0
          ? { warnings: warnings.map((w) => ({ path: w.file, message: w.message })) }
          : {}),
      };
    },
  );

  app.post<{ Params: { name: string }; Body: Unchecked<RollbackRequest>; Reply: Answer<DeployChange> }>(
    "/v1/functions/:name/rollback",
    { preHandler },
    async (req, reply) => {
      const version = req.body?.version;
      if (version !== undefined && typeof version !== "string") {
        return sendProblem(
          reply,
          problem(
            "EDDY_INVALID_REQUEST",
            "Bad request",
            `version must be a string, got ${JSON.stringify(version)}`,
          ),
        );
      }
      return deployer.rollback(req.params.name, version);
    },
  );
};
