/** Turning values into plain data that crosses the sandbox boundary. Runs on both sides. */
import { isEddyError, isNonRetriableError, isRetryAfterError } from "eddy";
import type { SandboxError } from "../protocol.js";
import { NonErrorThrownError } from "../../errors/attempt.js";

/**
 * The most of an error that is kept, in characters: an error is stored with its attempt, listed,
 * logged, dead-lettered and answered over HTTP, so a function that throws an 80 MB message must not
 * make an 80 MB record. What is over is cut and marked (see {@link truncate}). Its `cause` and
 * other properties are not kept.
 */
export const ERROR_LIMITS = { name: 256, code: 256, message: 8 * 1024, stack: 16 * 1024 } as const;

/** `text` cut to `max` characters, marked with how much was cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated ${text.length - max} characters]`;
}

/**
 * Turns anything thrown into plain data, keeping the delivery hints of Eddy's errors. `transform`
 * (masking secrets, mapping stack frames) runs on the message and stack before they are cut, so that
 * a cut never leaves part of a secret unmasked.
 */
export function serializeError(err: unknown, transform?: (text: string) => string): SandboxError {
  try {
    if (!(err instanceof Error) && !(typeof err === "object" && err !== null && "message" in err)) {
      const message = `the function threw a non-Error value: ${safeString(err)}`;
      const e = new NonErrorThrownError(transform ? transform(message) : message);
      return boundError({ name: e.name, code: e.code, message: e.message });
    }
    const e = err as Error & { code?: unknown };
    const out: SandboxError = { name: String(e.name || "Error"), message: String(e.message) };
    if (typeof e.stack === "string") out.stack = e.stack;
    if (isEddyError(err) || typeof e.code === "string") out.code = String(e.code);
    if (isNonRetriableError(err)) out.nonRetriable = true;
    if (isRetryAfterError(err)) out.retryAfterMs = err.retryAfterMs;
    if (transform) {
      out.message = transform(out.message);
      if (out.stack !== undefined) out.stack = transform(out.stack);
    }
    return boundError(out);
  } catch {
    // A getter or toString that throws: the error says nothing more.
    return { name: "Error", message: "the function threw an error that could not be read" };
  }
}

/**
 * An error within {@link ERROR_LIMITS}, with only the fields Eddy knows, each of its type. Also the
 * engine's check of an error a sandbox sent, which it does not trust: any value gives an ErrorInfo.
 */
export function boundError(e: unknown): SandboxError {
  const src = (typeof e === "object" && e !== null ? e : {}) as Record<string, unknown>;
  const text = (v: unknown, max: number) => truncate(typeof v === "string" ? v : String(v), max);
  const out: SandboxError = {
    name: src.name === undefined ? "Error" : text(src.name, ERROR_LIMITS.name),
    message: text(src.message ?? "", ERROR_LIMITS.message),
  };
  if (typeof src.stack === "string") out.stack = truncate(src.stack, ERROR_LIMITS.stack);
  if (src.code !== undefined) out.code = text(src.code, ERROR_LIMITS.code);
  if (src.nonRetriable === true) out.nonRetriable = true;
  const after = src.retryAfterMs;
  if (typeof after === "number" && Number.isFinite(after) && after >= 0) out.retryAfterMs = after;
  return out;
}

/** JSON of `v`, or `String(v)` when it has none (cycles, functions, BigInt). */
export function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * Replaces every occurrence of a secret in text by "[redacted]". Only values of 6 characters or
 * more count: masking "1" or "true" would garble every line and hide nothing.
 */
export function redactor(env: Record<string, string>): (text: string) => string {
  const secrets = [...new Set(Object.values(env))]
    .filter((v) => v.length >= 6)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (text) => text;
  return (text) => {
    let out = text;
    for (const s of secrets) if (out.includes(s)) out = out.split(s).join("[redacted]");
    return out;
  };
}
