/**
 * Errors a function throws to steer its own delivery, and errors the SDK raises for bad input.
 *
 * Functions run in sandboxes (worker threads, child processes): each one is a separate JavaScript
 * realm with its own copy of these classes, so `instanceof` alone cannot recognise an error thrown
 * on the other side. Every class carries a brand under `Symbol.for(...)`, which is shared across
 * realms, and the `is*` helpers check the brand.
 */

import { parseDuration } from "./duration.js";

const BRAND = Symbol.for("eddy.error");
const NON_RETRIABLE = Symbol.for("eddy.error.non-retriable");
const RETRY_AFTER = Symbol.for("eddy.error.retry-after");

/** Options of every {@link EddyError}. */
export interface EddyErrorOptions {
  /** What caused it, kept as the standard `cause`. */
  cause?: unknown;
  /** The HTTP status the condition answers with, where it surfaces over HTTP. */
  status?: number;
}

/**
 * Base class of Eddy's errors: one subclass per condition, each with its `name` (the class name),
 * a stable `code` to match on, the HTTP `status` where the condition surfaces over HTTP, and the
 * usual `cause`. Every code is listed in docs/errors.md; the server keeps the registry of them.
 *
 * @example
 * class PaymentDeclinedError extends EddyError {
 *   constructor(message: string) { super("APP_PAYMENT_DECLINED", message); }
 * }
 */
export class EddyError extends Error {
  /** Stable, documented identifier (see docs/errors.md). */
  readonly code: string;
  /** HTTP status of the condition, where it surfaces over HTTP. */
  readonly status?: number;

  constructor(code: string, message: string, options?: EddyErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    if (options?.status !== undefined) this.status = options.status;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * Thrown by a function to say that retrying cannot help: the delivery goes straight to the
 * function's dead-letter queue with this error.
 *
 * @example
 * if (!event.data.orderId) throw new NonRetriableError("order.paid without orderId");
 */
export class NonRetriableError extends EddyError {
  static readonly code = "EDDY_NON_RETRIABLE";
  constructor(message: string, options?: { cause?: unknown }) {
    super("EDDY_NON_RETRIABLE", message, options);
    Object.defineProperty(this, NON_RETRIABLE, { value: true });
  }
}

/**
 * Thrown by a function to retry after a given delay instead of the policy's backoff
 * (a rate-limited downstream said "come back in 30 s").
 *
 * @example
 * throw new RetryAfterError("payment gateway is rate limiting", "30s");
 */
export class RetryAfterError extends EddyError {
  static readonly code = "EDDY_RETRY_AFTER";
  /** Delay before the next attempt, in milliseconds. */
  readonly retryAfterMs: number;

  constructor(message: string, retryAfter: number | string | Date, options?: { cause?: unknown }) {
    super("EDDY_RETRY_AFTER", message, options);
    this.retryAfterMs = retryAfterToMs(retryAfter);
    Object.defineProperty(this, RETRY_AFTER, { value: true });
  }
}

/** A pattern, an event or a function definition is not valid; `path` says where. */
export class ValidationError extends EddyError {
  /** Dotted path to the offending field, `""` for the whole value. */
  readonly path: string;

  constructor(code: string, path: string, message: string, options?: EddyErrorOptions) {
    super(code, path ? `${path}: ${message}` : message, options);
    this.path = path;
  }
}

/** An event pattern is not valid EventBridge pattern syntax (HTTP 400 where a request sent it). */
export class InvalidPatternError extends ValidationError {
  static readonly code = "EDDY_INVALID_PATTERN";
  static readonly status = 400;
  constructor(path: string, message: string) {
    super(InvalidPatternError.code, path, message, { status: InvalidPatternError.status });
  }
}

/** A function definition (`defineFunction`) has a bad option. */
export class InvalidFunctionConfigError extends ValidationError {
  static readonly code = "EDDY_INVALID_FUNCTION_CONFIG";
  constructor(path: string, message: string, options?: EddyErrorOptions) {
    super(InvalidFunctionConfigError.code, path, message, options);
  }
}

/** True for any Eddy error, also one created in another realm (sandbox). */
export function isEddyError(err: unknown): err is EddyError {
  return hasBrand(err, BRAND);
}

/** True for a {@link NonRetriableError}, also one created in another realm. */
export function isNonRetriableError(err: unknown): err is NonRetriableError {
  return hasBrand(err, NON_RETRIABLE);
}

/** True for a {@link RetryAfterError}, also one created in another realm. */
export function isRetryAfterError(err: unknown): err is RetryAfterError {
  return hasBrand(err, RETRY_AFTER);
}

function hasBrand(err: unknown, brand: symbol): boolean {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[brand] === true;
}

function retryAfterToMs(value: number | string | Date): number {
  if (value instanceof Date) return Math.max(0, value.getTime() - Date.now());
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) {
      throw new RangeError(`RetryAfterError delay must be a finite number of ms >= 0, got ${value}`);
    }
    return value;
  }
  return parseDuration(value, "RetryAfterError delay");
}
