import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type { DeployChange, DeployRequest, DeployResponse, RollbackRequest } from "eddy";
import type { Unchecked } from "eddy/internal";
import type { Deployer } from "../../deploy/deployer.js";
import { DeployError } from "../../deploy/deployer.js";
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
      try {
        const { changes, warnings } = await deployer.upload(functions);
        return {
          functions: changes,
          ...(warnings.length > 0
            ? { warnings: warnings.map((w) => ({ path: w.file, message: w.message })) }
            : {}),
        };
      } catch (err) {
        return refused(reply, err);
      }
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
      try {
        return await deployer.rollback(req.params.name, version);
      } catch (err) {
        return refused(reply, err);
      }
    },
  );
};

function refused(reply: FastifyReply, err: unknown) {
  if (!(err instanceof DeployError)) throw err;
  const title = {
    EDDY_DEPLOY_FAILED: "Deploy failed",
    EDDY_NOT_FOUND: "Not found",
    EDDY_NO_PREVIOUS_VERSION: "No previous version",
  }[err.code as "EDDY_DEPLOY_FAILED"];
  return sendProblem(
    reply,
    problem(err.code, title, err.message, err.errors.length ? { errors: err.errors } : {}),
  );
}
