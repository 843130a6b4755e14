import type { FastifyPluginAsync } from "fastify";
import type { SendResponse, SendResult } from "eddy";
import type { Engine } from "../../engine.js";
import { isPressure } from "../../events/backpressure.js";
import type { Refusal } from "../../events/envelope.js";
import { decodeEvents } from "../../events/http-binding.js";
import type { IngestResult } from "../../events/ingest.js";
import type { ProblemDocument } from "../problem.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

/**
 * `POST /v1/events`: the CloudEvents HTTP binding. Answers 202 only after the accepted events are
 * durable. A batch is accepted item by item: 202 when all were accepted, 207 with per-item results
 * when some were refused, 4xx problem+json when none was.
 */
export const eventRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  // Every mode is decoded by the binding itself (binary mode has any content type), so take raw bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  app.post<{ Reply: Answer<SendResponse> }>("/v1/events", async (req, reply) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const decoded = decodeEvents({ headers: req.headers, body });
    if ("status" in decoded) return sendProblem(reply, fromRefusal(decoded));
    const candidates = decoded.items.map((i) => ("value" in i ? i.value : undefined));
    // An incoming W3C traceparent is the parent of events that carry none of their own.
    const traceparent = typeof req.headers.traceparent === "string" ? req.headers.traceparent : undefined;
    const results = await engine.ingestor.ingest(candidates, traceparent);
    // Items the binding already refused (e.g. bad percent-encoding) keep that refusal.
    decoded.items.forEach((item, i) => {
      if ("refusal" in item) results[i] = { status: "rejected", refusal: item.refusal };
    });
    const rejected = results.filter((r) => r.status === "rejected");
    // Backpressure: come back later (the longest wait any refused event asks for).
    const later = rejected.flatMap((r) => (isPressure(r.refusal) ? [r.refusal] : []));
    if (later.length > 0) reply.header("retry-after", String(Math.max(...later.map((r) => r.retryAfterS))));
    if (decoded.mode !== "batch" && rejected.length === 1) {
      return sendProblem(
        reply,
        fromRefusal((rejected[0] as Extract<IngestResult, { status: "rejected" }>).refusal),
      );
    }
    const items = results.map((r, index) => toItem(r, index));
    if (later.length > 0 && later.length === results.length) {
      // A batch refused for the time being as a whole: its status is the refusal's (429, 503).
      return sendProblem(reply, { ...fromRefusal(later[0]!), results: items });
    }
    if (rejected.length === results.length) {
      return sendProblem(
        reply,
        problem(
          "EDDY_INVALID_EVENT",
          "No event of the batch was accepted",
          `all ${results.length} events were refused`,
          {
            errors: items.flatMap((it) =>
              (it.problem?.errors ?? [{ path: "", message: it.problem?.detail ?? "" }]).map((e) => ({
                path: `[${it.index}]${e.path ? "." + e.path : ""}`,
                message: e.message,
              })),
            ),
            results: items,
          },
        ),
      );
    }
    return reply.code(rejected.length > 0 ? 207 : 202).send({
      accepted: results.filter((r) => r.status !== "rejected").length,
      rejected: rejected.length,
      results: items,
    });
  });
};

function toItem(r: IngestResult, index: number): SendResult {
  if (r.status === "rejected") {
    return { index, id: r.id, source: r.source, status: r.status, problem: fromRefusal(r.refusal) };
  }
  // How many functions the event was routed to: 0 says no trigger matches it (a duplicate routes nothing new).
  return { index, id: r.id, source: r.source, status: r.status, routed: r.deliveries, problem: undefined };
}

function fromRefusal(r: Refusal): ProblemDocument {
  const extra: Partial<ProblemDocument> = { status: r.status };
  if (r.errors) extra.errors = r.errors;
  return problem(r.code, r.title, r.detail, extra);
}
