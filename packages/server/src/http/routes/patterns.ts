import type { FastifyPluginAsync } from "fastify";
import { InvalidPatternError, matchesPattern, validatePattern } from "eddy";
import { problem, sendProblem } from "../problem.js";

/** `POST /v1/patterns/test` `{ pattern, event }` → `{ matches }`: try a pattern without deploying it. */
export const patternRoutes: FastifyPluginAsync = async (app) => {
  app.post("/v1/patterns/test", async (req, reply) => {
    const body = req.body as { pattern?: unknown; event?: unknown } | undefined;
    if (typeof body !== "object" || body === null || body.pattern === undefined || body.event === undefined) {
      return sendProblem(
        reply,
        problem(
          "EDDY_INVALID_REQUEST",
          "Bad request",
          'send a JSON object { "pattern": {...}, "event": {...} }',
        ),
      );
    }
    try {
      validatePattern(body.pattern);
    } catch (err) {
      if (err instanceof InvalidPatternError) {
        return sendProblem(
          reply,
          problem("EDDY_INVALID_PATTERN", "Invalid event pattern", err.message, {
            errors: [{ path: err.path, message: err.message }],
          }),
        );
      }
      throw err;
    }
    return { matches: matchesPattern(body.pattern, body.event) };
  });
};
