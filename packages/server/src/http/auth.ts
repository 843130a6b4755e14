import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { problem, sendProblem } from "./problem.js";

/** What a caller may do. Issue 5 adds API keys with narrower scopes beside the admin key. */
export type Scope = "admin";

/** Who a request is, once its credentials checked out. */
export interface Principal {
  /** For logs: "admin", later a key's id. Never the secret. */
  id: string;
  scopes: ReadonlySet<Scope>;
}

/** Turns a bearer token into a principal; undefined if the token is not valid. */
export interface Authenticator {
  /** False when no credential is configured at all (the routes that need one are then disabled). */
  readonly configured: boolean;
  authenticate(token: string): Principal | undefined;
}

/** Shortest admin key accepted: a short key can be guessed. */
export const MIN_ADMIN_KEY_LENGTH = 16;

/**
 * The admin key (`--admin-key` / `EDDY_ADMIN_KEY`): whoever presents it may deploy. Compared in
 * constant time (both sides hashed first, so lengths do not leak either).
 *
 * @example
 * const auth = adminKeyAuthenticator(process.env.EDDY_ADMIN_KEY);
 */
export function adminKeyAuthenticator(key: string | undefined): Authenticator {
  if (key !== undefined && key.length < MIN_ADMIN_KEY_LENGTH) {
    throw new RangeError(
      `the admin key (--admin-key or EDDY_ADMIN_KEY) must be at least ${MIN_ADMIN_KEY_LENGTH} characters, got ${key.length}`,
    );
  }
  const digest = key === undefined ? undefined : sha256(key);
  const admin: Principal = { id: "admin", scopes: new Set<Scope>(["admin"]) };
  return {
    configured: digest !== undefined,
    authenticate: (token) => (digest && timingSafeEqual(sha256(token), digest) ? admin : undefined),
  };
}

/**
 * A Fastify `preHandler` that lets a request through only with a bearer token that has `scope`:
 * 401 without valid credentials, 403 when the server has none configured (the action is disabled).
 *
 * @example
 * app.post("/v1/deploy", { preHandler: requireScope(auth, "admin") }, handler);
 */
export function requireScope(auth: Authenticator, scope: Scope) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!auth.configured) {
      return sendProblem(
        reply,
        problem(
          "EDDY_ADMIN_KEY_NOT_SET",
          "Deploys are disabled",
          "this server has no admin key, so it takes no deploys over HTTP; start it with --admin-key <key> or EDDY_ADMIN_KEY=<key> (16+ characters)",
        ),
      );
    }
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "");
    const principal = m ? auth.authenticate(m[1]!) : undefined;
    if (!principal || !principal.scopes.has(scope)) {
      reply.header("www-authenticate", 'Bearer realm="eddy"');
      return sendProblem(
        reply,
        problem(
          "EDDY_UNAUTHORIZED",
          "Unauthorized",
          m
            ? "the bearer token is not this server's admin key"
            : "send the admin key as Authorization: Bearer <key> (eddy deploy reads --admin-key or EDDY_ADMIN_KEY)",
        ),
      );
    }
  };
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}
