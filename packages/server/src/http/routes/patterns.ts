import type { FastifyPluginAsync } from "fastify";
import type { PatternTestRequest, PatternTestResponse } from "eddy";
import { matchesPattern } from "eddy";
import { patternComplexity } from "eddy/internal";
import type { Unchecked } from "eddy/internal";
import type { EventPattern } from "eddy";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

/**
 * What one dry run may cost: the pattern's complexity times the event's values, about 10 ms of
 * matching. Matching runs on the event loop, so a test that would cost more is refused instead
 * of holding every other request.
 */
export const DRY_RUN_BUDGET = 1_000_000;
/** Deepest event a dry run takes (matching recurses once per level). */
export const DRY_RUN_MAX_DEPTH = 128;

type TestRoute = { Body: Unchecked<PatternTestRequest>; Reply: Answer<PatternTestResponse> };

/** `POST /v1/patterns/test` `{ pattern, event }` → `{ matches }`: try a pattern without deploying it. */
export const patternRoutes: FastifyPluginAsync = async (app) => {
  app.post<TestRoute>("/v1/patterns/test", async (req, reply) => {
    const body = req.body;
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
    // An invalid pattern throws InvalidPatternError: 400 EDDY_INVALID_PATTERN, naming its path.
    const complexity = patternComplexity(body.pattern);
    const size = eventSize(body.event, Math.floor(DRY_RUN_BUDGET / Math.max(1, complexity)));
    if (size === "too-deep" || size === "too-large") {
      const why =
        size === "too-deep"
          ? `the event nests more than ${DRY_RUN_MAX_DEPTH} levels`
          : `the pattern's complexity (${complexity}) times the event's values is over ${DRY_RUN_BUDGET}`;
      return sendProblem(
        reply,
        problem(
          "EDDY_PATTERN_TEST_TOO_COSTLY",
          "Pattern test too costly",
          `${why}; test with a smaller event or a simpler pattern`,
        ),
      );
    }
    return { matches: matchesPattern(body.pattern as EventPattern, body.event) };
  });
};

/**
 * How many values (objects, arrays and leaves) `event` holds, without recursion; stops early
 * once past `max` or {@link DRY_RUN_MAX_DEPTH}.
 */
function eventSize(event: unknown, max: number): number | "too-deep" | "too-large" {
  const stack: [unknown, number][] = [[event, 1]];
  let n = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++n > max) return "too-large";
    if (typeof value !== "object" || value === null) continue;
    if (depth > DRY_RUN_MAX_DEPTH) return "too-deep";
    for (const child of Array.isArray(value) ? value : Object.values(value)) stack.push([child, depth + 1]);
  }
  return n;
}
