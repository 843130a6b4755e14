import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type {
  DeadLetterCounts,
  DeadLetterDetail,
  DeadLetterSelection,
  DeadLettersParams,
  DeadLettersResponse,
  PurgeResponse,
  RedriveResponse,
} from "eddy";
import type { Query, Unchecked } from "eddy/internal";
import type { DeadFilter } from "../../backends/types.js";
import { queueConsumer } from "../../dispatch/delivery-plan.js";
import type { Engine } from "../../engine.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

type ListQuery = Query<DeadLettersParams>;
type SelectBody = Unchecked<DeadLetterSelection>;
type Changed = RedriveResponse | PurgeResponse;

type DetailRoute = { Params: { name: string; id: string }; Reply: Answer<DeadLetterDetail> };

const KINDS = { functions: (n: string) => n, queues: queueConsumer } as const;

/**
 * Dead-letter queues, per function and per queue: `GET /v1/dlq` (counts), list, inspect (with
 * every attempt's record), redrive and purge by ids, by filter, or all.
 */
export const deadLetterRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const dead = engine.backend.deadLetters;

  app.get<{ Reply: DeadLetterCounts }>("/v1/dlq", async () => {
    const counts = await dead.counts();
    const functions: Record<string, number> = {};
    const queues: Record<string, number> = {};
    for (const [consumer, n] of Object.entries(counts)) {
      if (consumer.startsWith("queue:")) queues[consumer.slice(6)] = n;
      else functions[consumer] = n;
    }
    return { functions, queues };
  });

  for (const [kind, consumerOf] of Object.entries(KINDS)) {
    app.get<{ Params: { name: string }; Querystring: ListQuery; Reply: Answer<DeadLettersResponse> }>(
      `/v1/dlq/${kind}/:name`,
      async (req, reply) => {
        const q = req.query;
        const limit = q.limit === undefined ? 50 : Number(q.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
          return sendProblem(
            reply,
            bad(`limit must be an integer from 1 to 1000, got ${JSON.stringify(q.limit)}`),
          );
        }
        const deadLetters = await dead.list(consumerOf(req.params.name), {
          limit,
          ...(q.after !== undefined ? { afterId: q.after } : {}),
          ...(q.eventType !== undefined ? { eventType: q.eventType } : {}),
          ...(q.errorName !== undefined ? { errorName: q.errorName } : {}),
        });
        return { deadLetters, next: deadLetters.length === limit ? deadLetters[limit - 1]!.id : undefined };
      },
    );

    app.get<DetailRoute>(`/v1/dlq/${kind}/:name/:id`, async (req, reply) => {
      const letter = await dead.get(consumerOf(req.params.name), req.params.id);
      if (!letter) {
        return sendProblem(
          reply,
          problem(
            "EDDY_NOT_FOUND",
            "No such dead letter",
            `${kind}/${req.params.name} has no dead letter ${req.params.id}`,
          ),
        );
      }
      const records = await engine.backend.records.queryInvocations({ deliveryId: letter.id, limit: 1000 });
      // Every attempt, oldest first (delivery ids are per consumer, so keep this consumer's).
      const history = records.filter((r) => kind === "queues" || r.fn === letter.fn).reverse();
      return { ...letter, history };
    });

    for (const action of ["redrive", "purge"] as const) {
      app.post<{ Params: { name: string }; Body: SelectBody; Reply: Answer<Changed> }>(
        `/v1/dlq/${kind}/:name/${action}`,
        async (req, reply) => {
          const filter = parseSelection(req.body, reply);
          if (!filter) return reply;
          const consumer = consumerOf(req.params.name);
          if (action === "purge") return { purged: await dead.purge(consumer, filter) };
          const redriven = await dead.redrive(consumer, filter);
          engine.dispatcher.wake([consumer]);
          engine.queues.notify([consumer]);
          return { redriven };
        },
      );
    }
  }
};

/** Reads which dead letters an action applies to; an empty selection must say `all: true`. */
function parseSelection(body: SelectBody, reply: FastifyReply): DeadFilter | undefined {
  const b = body ?? {};
  const f: DeadFilter = {};
  if (b.ids !== undefined) {
    if (!Array.isArray(b.ids) || !b.ids.every((x) => typeof x === "string")) {
      sendProblem(reply, bad("ids must be an array of dead-letter ids (strings)"));
      return undefined;
    }
    f.ids = b.ids as string[];
  }
  for (const k of ["eventType", "errorName"] as const) {
    if (b[k] === undefined) continue;
    if (typeof b[k] !== "string") {
      sendProblem(reply, bad(`${k} must be a string`));
      return undefined;
    }
    f[k] = b[k] as string;
  }
  for (const k of ["deadAfter", "deadBefore"] as const) {
    if (b[k] === undefined) continue;
    const v = typeof b[k] === "string" ? Date.parse(b[k] as string) : Number(b[k]);
    if (!Number.isFinite(v)) {
      sendProblem(reply, bad(`${k} must be a time (epoch ms or ISO 8601)`));
      return undefined;
    }
    f[k] = v;
  }
  if (Object.keys(f).length === 0 && b.all !== true) {
    sendProblem(
      reply,
      bad(
        'say which dead letters: "ids", a filter (eventType, errorName, deadAfter, deadBefore), or "all": true',
      ),
    );
    return undefined;
  }
  return f;
}

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
