import type { IncomingMessage, RequestListener, Server, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { Socket } from "node:net";
import type { BodyBudget } from "./body-budget.js";
import { BudgetedRequest } from "./body-budget.js";
import { problem } from "./problem.js";
import type { ProblemDocument } from "./problem.js";

/**
 * How long a client may take and how many may be connected: what keeps slow or idle clients
 * (slowloris headers, bodies that trickle and stall) from holding memory and sockets. Node
 * applies them itself; Fastify's own `requestTimeout` is skipped because Eddy makes the server.
 */
export interface ConnectionLimits {
  /** The request's headers must have arrived within this long of its first byte. Default 10 s. */
  headersTimeoutMs: number;
  /** The whole request, body included, must have arrived within this long. Default 30 s. */
  requestTimeoutMs: number;
  /**
   * An idle keep-alive connection is closed after this long. Default 72 s (Fastify's): longer than
   * the idle timeout of common load balancers and HTTP clients (60 s, 4 s), so that the client, not
   * the server, closes an idle connection — a server that closes first races a client reusing the
   * socket, and that request fails with ECONNRESET.
   */
  keepAliveTimeoutMs: number;
  /** Connections past this many are closed at once, unanswered. Default 1,024. */
  maxConnections: number;
  /**
   * Request-body bytes all requests may hold at once, API and routes together; a request whose
   * body would take the total over it gets `503 EDDY_SERVER_BUSY` and its connection closed.
   * Default 64 MiB.
   */
  maxBufferedBodyBytes: number;
}

/** Defaults of {@link ConnectionLimits}. */
export const CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 72_000,
  maxConnections: 1_024,
  maxBufferedBodyBytes: 64 * 1024 * 1024,
};

/** Seconds a client refused for the body budget is asked to wait: bodies in flight finish fast. */
const RETRY_BUSY_S = 1;

/**
 * A `node:http` server with `limits` applied, answering the client errors Node detects itself
 * (a request too slow, headers too large, bytes that are not HTTP) with problem+json, then closing.
 * Request bodies are charged to `budget` (its limit is `maxBufferedBodyBytes`) as they arrive.
 *
 * @example
 * const limits = { ...CONNECTION_LIMITS, requestTimeoutMs: 5_000 };
 * const server = limitedServer(handler, limits, new BodyBudget(limits.maxBufferedBodyBytes));
 */
export function limitedServer(
  handler: RequestListener,
  limits: ConnectionLimits,
  budget: BodyBudget,
): Server {
  const requestTimeout = limits.requestTimeoutMs;
  // Node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(limits.headersTimeoutMs, requestTimeout);
  // Node looks for expired requests at this interval (its default, 30 s, would let a request
  // outlive its timeout by as much again).
  const connectionsCheckingInterval = Math.min(1_000, Math.max(10, Math.floor(headersTimeout / 4)));
  // The response in flight on each socket: a client error must not write into one already started.
  const responses = new WeakMap<Socket, ServerResponse>();
  /**
   * Answers 503 and half-closes; the rest of the body is read and dropped (closing with unread
   * bytes would reset the connection and lose the answer), and the socket is destroyed once the
   * request ends, times out or the client closes.
   */
  const overBudget = (socket: Socket) => {
    if (socket.writable && !responses.get(socket)?.headersSent) {
      const doc = problem(
        "EDDY_SERVER_BUSY",
        "Server busy",
        `the request bodies in flight are at the server's limit (${limits.maxBufferedBodyBytes} bytes); retry in ${RETRY_BUSY_S} s`,
      );
      socket.end(rawProblem(doc, `Retry-After: ${RETRY_BUSY_S}\r\n`));
    } else socket.destroy();
  };
  const server = createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval,
      IncomingMessage: BudgetedRequest,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      responses.set(req.socket, res);
      (req as BudgetedRequest).charge(budget, res, () => overBudget(req.socket));
      res.once("finish", () => {
        if (responses.get(req.socket) === res) responses.delete(req.socket);
      });
      handler(req, res);
    },
  );
  server.maxConnections = limits.maxConnections;
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = responses.get(socket);
    if (err.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
      socket.write(rawProblem(clientProblem(err, limits)));
    }
    socket.destroy();
  });
  return server;
}

function clientProblem(err: NodeJS.ErrnoException, limits: ConnectionLimits): ProblemDocument {
  switch (err.code) {
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return problem(
        "EDDY_REQUEST_TIMEOUT",
        "Request timeout",
        `the request did not arrive in time: headers within ${limits.headersTimeoutMs} ms, the whole request within ${limits.requestTimeoutMs} ms`,
      );
    case "HPE_HEADER_OVERFLOW":
      return problem(
        "EDDY_HEADERS_TOO_LARGE",
        "Request headers too large",
        "the request's headers are over 16 KiB",
      );
    default:
      return problem(
        "EDDY_INVALID_REQUEST",
        "Bad request",
        `the request is not valid HTTP/1.1 (${err.code ?? err.message})`,
      );
  }
}

/** A whole HTTP/1.1 response carrying `doc`, for a socket the HTTP parser has given up on. */
function rawProblem(doc: ProblemDocument, headers = ""): string {
  const body = JSON.stringify(doc);
  return (
    `HTTP/1.1 ${doc.status} ${doc.title}\r\n` +
    "Content-Type: application/problem+json\r\n" +
    headers +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    "Connection: close\r\n\r\n" +
    body
  );
}
