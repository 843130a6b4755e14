import type { FastifyPluginAsync } from "fastify";
import type { FunctionLogLine, InvocationLogs, LogsParams, LogsResponse } from "eddy";
import type { Query } from "eddy/internal";
import type { InvocationRecord, LogLine } from "../../backends/types.js";
import type { Engine } from "../../engine.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";
import { parseTime } from "../time.js";

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;

type Line = FunctionLogLine;
type RecordLogsRoute = { Params: { id: string }; Reply: Answer<InvocationLogs> };
type LogsRoute = { Querystring: Query<LogsParams>; Reply: Answer<LogsResponse> };

/**
 * Functions' logs: `GET /v1/invocations/:id/logs`, and `GET /v1/logs?function=&level=&since=`,
 * which with `follow=true` streams new lines as Server-Sent Events (after the backlog since
 * `since`). Following is fed by this node's attempts.
 */
export const logRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get<RecordLogsRoute>("/v1/invocations/:id/logs", async (req, reply) => {
    const rec = await engine.backend.records.getInvocation(req.params.id);
    if (!rec)
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such invocation", `no invocation ${req.params.id}`),
      );
    return {
      invocationId: rec.id,
      fn: rec.fn,
      attempt: rec.attempt,
      logs: rec.logs,
      logsTruncated: rec.logsTruncated ?? false,
    };
  });

  app.get<LogsRoute>("/v1/logs", async (req, reply) => {
    const q = req.query;
    const min = q.level === undefined ? 0 : LEVELS[q.level as keyof typeof LEVELS];
    if (min === undefined)
      return sendProblem(
        reply,
        bad(`level must be debug, info, warn or error, got ${JSON.stringify(q.level)}`),
      );
    const since = q.since === undefined ? undefined : parseTime(q.since, engine.clock.now());
    if (q.since !== undefined && since === undefined) {
      return sendProblem(reply, bad('since is a time: "15m" (ago), an ISO 8601 date, or epoch ms'));
    }
    const limit = q.limit === undefined ? 200 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      return sendProblem(reply, bad("limit must be from 1 to 10000"));
    const keep = (rec: InvocationRecord) => q.function === undefined || rec.fn === q.function;
    const lines = (recs: InvocationRecord[]) =>
      recs
        .filter(keep)
        .flatMap((r) =>
          withError(r).map((l): Line => ({ ...l, fn: r.fn, invocationId: r.id, attempt: r.attempt })),
        )
        .filter((l) => LEVELS[l.level] >= min);
    const backlog = lines(
      await engine.backend.records.queryInvocations({
        ...(q.function !== undefined ? { fn: q.function } : {}),
        ...(since !== undefined ? { since } : {}),
        limit: Math.min(limit, 1000),
      }),
    )
      .sort((a, b) => a.time - b.time)
      .slice(-limit);
    if (q.follow !== "true" && q.follow !== "1") return { lines: backlog };

    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const send = (l: Line) => res.write(`data: ${JSON.stringify(l)}\n\n`);
    for (const l of backlog) send(l);
    const unsubscribe = engine.observer.follow((rec) => {
      for (const l of lines([rec])) send(l);
    });
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), 15_000);
    heartbeat.unref();
    req.raw.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
};

/**
 * A record's log lines, and the error the attempt failed with as a last `error` line: a function
 * that throws without logging shows up under `--level error` too.
 */
function withError(r: InvocationRecord): LogLine[] {
  if (!r.error) return r.logs;
  const fields: Record<string, unknown> = { outcome: r.outcome };
  if (r.error.code !== undefined) fields.code = r.error.code;
  return [
    ...r.logs,
    { time: r.startedAt + r.durationMs, level: "error", msg: `${r.error.name}: ${r.error.message}`, fields },
  ];
}

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
