import type { FastifyReply } from "fastify";
import { isEddyError, ValidationError } from "eddy";
import type { HttpEddyError, ProblemCode } from "../errors/http.js";
import { HTTP_ERRORS, isProblemCode } from "../errors/http.js";

/**
 * Every error code the HTTP API answers with, and its HTTP status (from the registry,
 * errors/http.ts). docs/errors.md documents each one; a test checks both ways.
 */
export const PROBLEM_CODES = Object.fromEntries(
  Object.entries(HTTP_ERRORS).map(([code, { status }]) => [code, status]),
) as { readonly [C in ProblemCode]: (typeof HTTP_ERRORS)[C]["status"] };

export type { ProblemCode };

/** An RFC 9457 problem details document. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ProblemCode;
  instance?: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

const DOCS = "https://github.com/eddy-dev/eddy/blob/main/docs/errors.md";

/**
 * Builds a problem document; `type` links to the code's entry in the errors table. Only codes of
 * the registry are taken (an unknown one does not compile, and throws if forced through).
 *
 * @example
 * problem("EDDY_NOT_FOUND", "Not found", "no function named x")
 */
export function problem(
  code: ProblemCode,
  title: string,
  detail: string,
  extra: Partial<ProblemDocument> = {},
): ProblemDocument {
  if (!isProblemCode(code)) {
    throw new Error(`problem(): ${String(code)} is not a code of HTTP_ERRORS; add it in errors/http.ts`);
  }
  const { status } = HTTP_ERRORS[code];
  return { type: `${DOCS}#${code.toLowerCase()}`, title, status, detail, code, ...extra };
}

/**
 * The problem document of a thrown error of a registered HTTP condition (its code, status, title,
 * message as `detail`, fields at fault, extra members), or undefined for any other error. An SDK
 * `ValidationError` (an invalid pattern) lists its path as the field at fault.
 */
export function problemOf(err: unknown): ProblemDocument | undefined {
  if (!isEddyError(err) || !isProblemCode(err.code)) return undefined;
  const { title, errors, extra } = err as Partial<HttpEddyError>;
  const fields =
    errors ?? (err instanceof ValidationError ? [{ path: err.path, message: err.message }] : undefined);
  return problem(err.code, title ?? HTTP_ERRORS[err.code].title, err.message, {
    ...(fields && fields.length > 0 ? { errors: fields } : {}),
    ...extra,
  });
}

/** Sends a problem as `application/problem+json`. */
export function sendProblem(reply: FastifyReply, doc: ProblemDocument): FastifyReply {
  return reply.code(doc.status).type("application/problem+json").send(doc);
}
