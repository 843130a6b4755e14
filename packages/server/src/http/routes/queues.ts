import type { FastifyPluginAsync, FastifyReply } from "fastify";
import type {
  ChangeVisibilityRequest,
  OutgoingMessageBody,
  PurgeResponse,
  QueuesResponse,
  QueueView,
  ReceiveParams,
  ReceiveResponse,
  SendMessagesResponse,
} from "eddy";
import { parseDuration } from "eddy/internal";
import type { Unchecked } from "eddy/internal";
import { queueConsumer } from "../../dispatch/delivery-plan.js";
import type { Engine } from "../../engine.js";
import type { QueueAttributes } from "../../queues/queue-config.js";
import { QueueConfigError } from "../../queues/queue-config.js";
import type { OutgoingMessage } from "../../queues/queue-service.js";
import { QueueError } from "../../queues/queue-service.js";
import { problem, sendProblem } from "../problem.js";
import type { Answer } from "../reply.js";

type MessageBody = NonNullable<Unchecked<OutgoingMessageBody>>;
type SendBody = (MessageBody & { messages?: unknown }) | undefined;

const MAX_WAIT_MS = 20_000;

type QueueRoute = { Params: { name: string }; Reply: Answer<QueueView> };
type PurgeRoute = { Params: { name: string }; Reply: PurgeResponse };

/** SQS-like queues: create, send, long-poll receive, delete, change visibility, purge. */
export const queueRoutes: FastifyPluginAsync<{ engine: Engine }> = async (app, { engine }) => {
  const queues = engine.queues;
  const withCounts = async (name: string): Promise<QueueView> => ({
    ...(await queues.get(name))!,
    messages: await engine.backend.queue.counts(queueConsumer(name)),
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof QueueError) {
      const title = {
        EDDY_QUEUE_NOT_FOUND: "No such queue",
        EDDY_INVALID_MESSAGE: "Invalid message",
        EDDY_INVALID_RECEIPT: "Invalid receipt handle",
      }[err.code];
      return sendProblem(reply, problem(err.code, title, err.message));
    }
    if (err instanceof QueueConfigError) {
      return sendProblem(
        reply,
        problem("EDDY_INVALID_QUEUE", "Invalid queue", err.message, {
          errors: [{ path: err.path, message: err.message }],
        }),
      );
    }
    throw err;
  });

  app.get<{ Reply: QueuesResponse }>("/v1/queues", async () => ({
    queues: await Promise.all((await queues.list()).map((q) => withCounts(q.name))),
  }));

  app.put<{ Params: { name: string }; Body: QueueAttributes | undefined; Reply: QueueView }>(
    "/v1/queues/:name",
    async (req) => {
      await queues.define(req.params.name, req.body ?? {});
      return withCounts(req.params.name);
    },
  );

  app.get<QueueRoute>("/v1/queues/:name", async (req, reply) => {
    if (!(await queues.get(req.params.name))) return sendProblem(reply, notFound(req.params.name));
    return withCounts(req.params.name);
  });

  app.delete<{ Params: { name: string } }>("/v1/queues/:name", async (req, reply) => {
    if (!(await queues.remove(req.params.name))) return sendProblem(reply, notFound(req.params.name));
    return reply.code(204).send();
  });

  app.post<PurgeRoute>("/v1/queues/:name/purge", async (req) => ({
    purged: await queues.purgeMessages(req.params.name),
  }));

  app.post<{ Params: { name: string }; Body: SendBody; Reply: Answer<SendMessagesResponse> }>(
    "/v1/queues/:name/messages",
    async (req, reply) => {
      const b = req.body ?? {};
      const list = Array.isArray(b.messages) ? (b.messages as MessageBody[]) : [b];
      const messages: OutgoingMessage[] = [];
      for (const [i, m] of list.entries()) {
        const parsed = toMessage(m, Array.isArray(b.messages) ? `messages[${i}]` : "", reply);
        if (!parsed) return reply;
        messages.push(parsed);
      }
      const results = await queues.send(req.params.name, messages);
      return reply.code(202).send({ results });
    },
  );

  app.post<{
    Params: { name: string };
    Body: Unchecked<ReceiveParams>;
    Reply: Answer<ReceiveResponse>;
  }>("/v1/queues/:name/receive", async (req, reply) => {
    const b = req.body ?? {};
    const max = b.max === undefined ? 1 : Number(b.max);
    if (!Number.isInteger(max) || max < 1 || max > 100)
      return sendProblem(reply, bad("max must be an integer from 1 to 100"));
    const waitMs = b.wait === undefined ? 0 : ms(b.wait, "wait", reply);
    const visibilityMs =
      b.visibilityTimeout === undefined ? undefined : ms(b.visibilityTimeout, "visibilityTimeout", reply);
    if (waitMs === undefined || (b.visibilityTimeout !== undefined && visibilityMs === undefined))
      return reply;
    if (waitMs > MAX_WAIT_MS) return sendProblem(reply, bad(`wait is at most ${MAX_WAIT_MS / 1000}s`));
    const messages = await queues.receive(req.params.name, {
      max,
      waitMs,
      ...(visibilityMs !== undefined ? { visibilityMs } : {}),
    });
    return { messages };
  });

  app.delete<{ Params: { name: string; receipt: string } }>(
    "/v1/queues/:name/messages/:receipt",
    async (req, reply) => {
      if (await queues.delete(req.params.name, req.params.receipt)) return reply.code(204).send();
      return sendProblem(reply, stale());
    },
  );

  app.post<{ Params: { name: string; receipt: string }; Body: Unchecked<ChangeVisibilityRequest> }>(
    "/v1/queues/:name/messages/:receipt/visibility",
    async (req, reply) => {
      const timeoutMs = ms(req.body?.timeout ?? 0, "timeout", reply);
      if (timeoutMs === undefined) return reply;
      if (await queues.changeVisibility(req.params.name, req.params.receipt, timeoutMs))
        return reply.code(204).send();
      return sendProblem(reply, stale());
    },
  );
};

function toMessage(m: MessageBody, path: string, reply: FastifyReply): OutgoingMessage | undefined {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof m !== "object" || m === null || !("body" in m)) {
    sendProblem(
      reply,
      problem("EDDY_INVALID_MESSAGE", "Invalid message", `${path || "the request"} needs a "body"`),
    );
    return undefined;
  }
  const out: OutgoingMessage = { body: m.body };
  for (const k of ["groupId", "dedupId"] as const) {
    if (m[k] === undefined) continue;
    if (typeof m[k] !== "string" || m[k] === "") {
      sendProblem(
        reply,
        problem("EDDY_INVALID_MESSAGE", "Invalid message", `${at(k)} must be a non-empty string`),
      );
      return undefined;
    }
    out[k] = m[k] as string;
  }
  if (m.delay !== undefined) {
    const d = ms(m.delay, at("delay"), reply);
    if (d === undefined) return undefined;
    out.delayMs = d;
  }
  return out;
}

/** Parses a duration option; on error sends the problem and returns undefined. */
function ms(v: unknown, path: string, reply: FastifyReply): number | undefined {
  try {
    return parseDuration(v, path);
  } catch (err) {
    sendProblem(reply, bad((err as Error).message));
    return undefined;
  }
}

function notFound(name: string) {
  return problem(
    "EDDY_QUEUE_NOT_FOUND",
    "No such queue",
    `no queue named ${JSON.stringify(name)}; create it with PUT /v1/queues/${name}`,
  );
}

function stale() {
  return problem(
    "EDDY_STALE_RECEIPT",
    "Receipt no longer valid",
    "the message was deleted, or its visibility timeout passed and it was received again; receive it again",
  );
}

function bad(detail: string) {
  return problem("EDDY_INVALID_REQUEST", "Bad request", detail);
}
