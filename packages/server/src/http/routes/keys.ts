import type { FastifyPluginAsync } from "fastify";
import type { CreatedKey, CreateKeyRequest, KeysResponse } from "eddy";
import type { Unchecked } from "eddy/internal";
import type { Authenticator } from "../../auth/authenticator.js";
import type { KeyStore } from "../../auth/keys.js";
import { SCOPES } from "../../auth/scopes.js";
import { requireScope } from "../auth.js";
import { problem, sendProblem } from "../problem.js";
import { durationParam } from "../time.js";
import type { Answer } from "../reply.js";

/**
 * API keys: `POST /v1/keys` `{ name, scopes, expiresIn? }` answers the token once (201);
 * `GET /v1/keys` lists them without secrets; `DELETE /v1/keys/:id` revokes. All need the admin scope.
 */
export const keyRoutes: FastifyPluginAsync<{ keys: KeyStore; auth: Authenticator }> = async (
  app,
  { keys, auth },
) => {
  const preHandler = requireScope(auth, SCOPES.admin);

  app.post<{ Body: Unchecked<CreateKeyRequest>; Reply: Answer<CreatedKey> }>(
    "/v1/keys",
    { preHandler },
    async (req, reply) => {
      const b = req.body ?? {};
      const expiresInMs = b.expiresIn === undefined ? undefined : durationParam(b.expiresIn, "expiresIn");
      const made = await keys.create({
        name: b.name as string,
        scopes: b.scopes,
        ...(expiresInMs !== undefined ? { expiresInMs } : {}),
      });
      return reply.code(201).send(made);
    },
  );

  app.get<{ Reply: KeysResponse }>("/v1/keys", { preHandler }, async () => ({ keys: await keys.list() }));

  app.delete<{ Params: { id: string } }>("/v1/keys/:id", { preHandler }, async (req, reply) => {
    if (await keys.revoke(req.params.id)) return reply.code(204).send();
    return sendProblem(reply, problem("EDDY_NOT_FOUND", "Not found", `no key ${req.params.id}`));
  });
};
