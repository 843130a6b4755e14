import type { FastifyReply } from "fastify";

/**
 * A route's `Reply` generic: the wire type `T` it answers with (from `eddy`, the type the client
 * reads), or the reply itself, which a handler returns once it sent something else (a problem,
 * `return sendProblem(reply, …)`, or a status such as 204).
 *
 * @example
 * app.get<{ Reply: Answer<QueuesResponse> }>("/v1/queues", async () => ({ queues: … }));
 */
export type Answer<T> = T | FastifyReply;
