import type { FastifyPluginAsync } from "fastify";
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
import type { Unchecked } from "eddy/internal";
import { queueConsumer } from "../../dispatch/delivery-plan.js";
import type { Engine } from "../../engine.js";
import type { QueueAttributes } from "../../queues/queue-config.js";
import type { OutgoingMessage } from "../../queues/queue-service.js";
import { InvalidMessageError, InvalidRequestError } from "../../errors/http.js";
import { problem, sendProblem } from "../problem.js";
import { durationParam } from "../time.js";
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
      const messages = list.map((m, i) => toMessage(m, Array.isArray(b.messages) ? `messages[${i}]` : ""));
      const results = await queues.send(req.params.name, messages);
      return reply.code(202).send({ results });
    },
  );

  app.post<{
    Params: { name: string };
    Body: Unchecked<ReceiveParams>;
    Reply: Answer<ReceiveResponse>;
  }>("/v1/queues/:name/receive", async (req) => {
    const b = req.body ?? {};
    const max = b.max === undefined ? 1 : Number(b.max);
    if (!Number.isInteger(max) || max < 1 || max > 100)
      throw new InvalidRequestError("max must be an integer from 1 to 100");
    const waitMs = b.wait === undefined ? 0 : durationParam(b.wait, "wait");
    const visibilityMs =
      b.visibilityTimeout === undefined ? undefined : durationParam(b.visibilityTimeout, "visibilityTimeout");
    if (waitMs > MAX_WAIT_MS) throw new InvalidRequestError(`wait is at most ${MAX_WAIT_MS / 1000}s`);
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
      const timeoutMs = durationParam(req.body?.timeout ?? 0, "timeout");
      if (await queues.changeVisibility(req.params.name, req.params.receipt, timeoutMs))
        return reply.code(204).send();
      return sendProblem(reply, stale());
    },
  );
};

function toMessage(m: MessageBody, path: string): OutgoingMessage {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (typeof m !== "object" || m === null || !("body" in m)) {
    throw new InvalidMessageError(`${path || "the request"} needs a "body"`);
  }
  const out: OutgoingMessage = { body: m.body };
  for (const k of ["groupId", "dedupId"] as const) {
    if (m[k] === undefined) continue;
    if (typeof m[k] !== "string" || m[k] === "") {
      throw new InvalidMessageError(`${at(k)} must be a non-empty string`);
    }
    out[k] = m[k] as string;
  }
  if (m.delay !== undefined) out.delayMs = durationParam(m.delay, at("delay"));
  return out;
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
