/** Turning values into plain data that crosses the sandbox boundary. Runs on both sides. */
import { isEddyError, isNonRetriableError, isRetryAfterError } from "eddy";
import type { SandboxError } from "../protocol.js";

/** Turns anything thrown into plain data, keeping the delivery hints of Eddy's errors. */
export function serializeError(err: unknown): SandboxError {
  if (!(err instanceof Error) && !(typeof err === "object" && err !== null && "message" in err)) {
    return { name: "NonErrorThrown", message: `the function threw a non-Error value: ${safeString(err)}` };
  }
  const e = err as Error & { code?: unknown };
  const out: SandboxError = { name: e.name || "Error", message: String(e.message) };
  if (typeof e.stack === "string") out.stack = e.stack;
  if (isEddyError(err) || typeof e.code === "string") out.code = String(e.code);
  if (isNonRetriableError(err)) out.nonRetriable = true;
  if (isRetryAfterError(err)) out.retryAfterMs = err.retryAfterMs;
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
