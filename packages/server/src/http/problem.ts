import type { FastifyReply } from "fastify";

/**
 * Every error code the HTTP API answers with, and its HTTP status. docs/errors.md documents each
 * one (a test checks that none is missing).
 */
export const PROBLEM_CODES = {
  EDDY_INVALID_JSON: 400,
  EDDY_INVALID_EVENT: 400,
  EDDY_EVENT_TOO_DEEP: 400,
  EDDY_INVALID_PATTERN: 400,
  EDDY_INVALID_REQUEST: 400,
  EDDY_INVALID_QUEUE: 400,
  EDDY_INVALID_MESSAGE: 400,
  EDDY_INVALID_RECEIPT: 400,
  EDDY_CALLBACK_NOT_ALLOWED: 400,
  EDDY_UNAUTHORIZED: 401,
  EDDY_ADMIN_KEY_NOT_SET: 403,
  EDDY_FORBIDDEN: 403,
  EDDY_HOST_NOT_ALLOWED: 403,
  EDDY_NOT_FOUND: 404,
  EDDY_QUEUE_NOT_FOUND: 404,
  EDDY_METHOD_NOT_ALLOWED: 405,
  EDDY_REQUEST_TIMEOUT: 408,
  EDDY_STALE_RECEIPT: 409,
  EDDY_NO_PREVIOUS_VERSION: 409,
  EDDY_EVENT_TOO_LARGE: 413,
  EDDY_PAYLOAD_TOO_LARGE: 413,
  EDDY_UNSUPPORTED_MEDIA_TYPE: 415,
  EDDY_DEPLOY_FAILED: 422,
  EDDY_PATTERN_TEST_TOO_COSTLY: 422,
  EDDY_RATE_LIMITED: 429,
  EDDY_HEADERS_TOO_LARGE: 431,
  EDDY_BACKLOG_FULL: 429,
  EDDY_STORE_FULL: 503,
  EDDY_STORE_UNAVAILABLE: 503,
  EDDY_SHUTTING_DOWN: 503,
  EDDY_NOT_READY: 503,
  EDDY_INTERNAL: 500,
  EDDY_FUNCTION_FAILED: 502,
  EDDY_GATEWAY_TIMEOUT: 504,
} as const;

/** A code of {@link PROBLEM_CODES}. */
export type ProblemCode = keyof typeof PROBLEM_CODES;

/** An RFC 9457 problem details document. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

const DOCS = "https://github.com/eddy-dev/eddy/blob/main/docs/errors.md";

/**
 * Builds a problem document; `type` links to the code's entry in the errors table.
 *
 * @example
 * problem("EDDY_NOT_FOUND", "Not found", "no function named x")
 */
export function problem(
  code: string,
  title: string,
  detail: string,
  extra: Partial<ProblemDocument> = {},
): ProblemDocument {
  const status = (PROBLEM_CODES as Record<string, number>)[code] ?? 500;
  return { type: `${DOCS}#${code.toLowerCase()}`, title, status, detail, code, ...extra };
}

/** Sends a problem as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, doc: ProblemDocument): FastifyReply {
  return reply.code(doc.status).type("application/problem+json").send(doc);
}
