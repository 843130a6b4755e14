import type { FastifyPluginAsync } from "fastify";
import type { ReadyResponse, TraceLookupParams, TraceView } from "eddy";
import type { Query } from "eddy/internal";
import type { Engine } from "../../engine.js";
import { buildTraceView } from "../../observability/trace-view.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

const MAX_TRACE_ITEMS = 10_000;

type TraceRoute = { Params: { traceId: string }; Reply: Answer<TraceView> };

/** `/metrics` (Prometheus), `/readyz`, and the built-in trace view under `/v1/traces`. */
export const observabilityRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  app.get("/metrics", async (_req, reply) => {
    const text = await engine.observer.metrics.text();
    return reply.type(engine.observer.metrics.contentType).send(text);
  });

  app.get<{ Reply: Answer<ReadyResponse> }>("/readyz", async (_req, reply) => {
    const checks: Record<string, string> = {};
    try {
      await engine.backend.kv.get("eddy", "readyz");
      checks.backend = "ok";
    } catch (err) {
      checks.backend = `unreachable: ${(err as Error).message}`;
    }
    const failed = [...engine.loadFailures].map(([file, message]) => ({ file, message }));
    checks.functions = `${engine.functions().length} loaded${failed.length > 0 ? `, ${failed.length} failed to load` : ""}`;
    // Backpressure: a full disk, a failing store or a full backlog refuses events, so say so here.
    const pressure = await engine.backpressure.status();
    Object.assign(checks, pressure.checks);
    if (checks.backend === "ok" && pressure.ready && failed.length === 0) {
      return { status: "ready", backend: engine.backend.name, checks };
    }
    const why = [
      ...(checks.backend === "ok" ? [] : [`the ${engine.backend.name} backend is not reachable`]),
      ...(pressure.ready ? [] : ["ingest refuses events"]),
      ...(failed.length === 0
        ? []
        : [`${failed.length} function file(s) failed to load: ${failed.map((f) => f.file).join(", ")}`]),
    ];
    return sendProblem(
      reply,
      problem("EDDY_NOT_READY", "Not ready", why.join("; "), {
        checks,
        ...(failed.length > 0 ? { loadFailures: failed } : {}),
      }),
    );
  });

  app.get<TraceRoute>("/v1/traces/:traceId", async (req, reply) => {
    const traceId = req.params.traceId.toLowerCase();
    if (!/^[0-9a-f]{32}$/.test(traceId)) {
      return sendProblem(
        reply,
        problem("EDDY_INVALID_REQUEST", "Bad request", "a trace id is 32 hex digits"),
      );
    }
    const [events, invocations] = await Promise.all([
      engine.backend.traces.byTrace(traceId, MAX_TRACE_ITEMS),
      engine.backend.records.queryInvocations({ traceId, limit: MAX_TRACE_ITEMS }),
    ]);
    if (events.length === 0 && invocations.length === 0) {
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such trace", `nothing is recorded for trace ${traceId}`),
      );
    }
    return buildTraceView(traceId, events, invocations);
  });

  app.get<{ Querystring: Query<TraceLookupParams> }>("/v1/traces", async (req, reply) => {
    if (!req.query.eventId) {
      return sendProblem(
        reply,
        problem("EDDY_INVALID_REQUEST", "Bad request", "give ?eventId=ID to find its trace"),
      );
    }
    const traceId = await engine.backend.traces.traceOf(req.query.eventId, req.query.source);
    if (!traceId) {
      return sendProblem(
        reply,
        problem("EDDY_NOT_FOUND", "No such event", `no event with id ${req.query.eventId}`),
      );
    }
    return reply.redirect(`/v1/traces/${traceId}`, 303);
  });
};
