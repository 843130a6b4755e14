import type { CloudEvent, EventInput } from "./cloudevents.js";
import type { Duration } from "./duration.js";
import { parseDuration } from "./duration.js";
import { InvalidFunctionConfigError } from "./errors.js";
import { validatePattern } from "./patterns/index.js";
import type { Trigger } from "./triggers.js";

/** Structured logger given to a function; lines are stored with the invocation. */
export interface FunctionLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Facts about the running attempt. */
export interface InvocationInfo {
  /** Unique per attempt. */
  id: string;
  /** 1 for the first attempt. */
  attempt: number;
  functionName: string;
  /** Content hash of the deployed bundle. */
  version: string;
  /** Epoch ms after which the attempt is timed out. */
  deadline: number;
}

/** What a handler gets besides the event. */
export interface FunctionContext {
  log: FunctionLogger;
  /**
   * Publishes events to the bus — only if this attempt succeeds, so a failed attempt never leaves
   * ghost events behind. `id` and `source` default to values derived from the delivery, which makes
   * a retried attempt's emits duplicates of the first one's (dropped by deduplication).
   */
  emit(events: EventInput | EventInput[]): Promise<void>;
  /** Configuration and secrets given to this function by the server. */
  env: Readonly<Record<string, string>>;
  /** Aborted when the attempt times out or the server shuts down. */
  signal: AbortSignal;
  invocation: InvocationInfo;
}

/** A function's code. Its return value is recorded with the invocation; a throw fails the attempt. */
export type Handler<TData = unknown> = (event: CloudEvent<TData>, ctx: FunctionContext) => unknown;

/** Exponential backoff between attempts: `min(max, initial * factor^(n-1))`, then jitter. */
export interface BackoffPolicy {
  /** Delay before the 2nd attempt. Default "1s". */
  initial?: Duration;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Upper bound of one delay. Default "5m". */
  max?: Duration;
  /** "full" (default, AWS's recommendation): uniform in [0, delay]; "equal": [delay/2, delay]; "none". */
  jitter?: "full" | "equal" | "none";
}

/** How often and how patiently to retry before dead-lettering. */
export interface RetryPolicy {
  /** Attempts in all, including the first. Default 3. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
}

/** How a user configures a function. */
export interface FunctionConfig {
  /** Unique within an app: letters, digits, `-`, `_`, `.`; defaults to the file name. */
  name?: string;
  description?: string;
  triggers: Trigger[];
  retries?: RetryPolicy;
  /** Per attempt. Default "30s". */
  timeout?: Duration;
  /** Heap limit of the sandbox. Default 128. */
  memoryMb?: number;
  concurrency?: {
    /** Attempts running at once. Default 10. */
    max?: number;
  };
  /** Event types this function emits (documentation and, later, schema checks). */
  emits?: string[];
}

/** A function's configuration with every default filled in: what the server works with. JSON only. */
export interface ResolvedFunctionConfig {
  name: string | undefined;
  description: string | undefined;
  triggers: Trigger[];
  retries: {
    maxAttempts: number;
    backoff: { initialMs: number; factor: number; maxMs: number; jitter: "full" | "equal" | "none" };
  };
  timeoutMs: number;
  memoryMb: number;
  concurrency: { max: number };
  emits: string[];
}

const FUNCTION_BRAND = Symbol.for("eddy.function");
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** What `defineFunction` returns: the module's default export. */
export interface EddyFunction<TData = unknown> {
  readonly config: ResolvedFunctionConfig;
  readonly handler: Handler<TData>;
}

/**
 * Defines a function: its triggers and policies, and the handler that runs each event.
 * The configuration is checked here; a bad option throws {@link InvalidFunctionConfigError} naming it.
 *
 * @example
 * export default defineFunction(
 *   { name: "send-receipt", triggers: [on.event({ type: ["order.paid"] })] },
 *   async (event, ctx) => ctx.log.info("paid", { order: event.data }),
 * );
 */
export function defineFunction<TData = unknown>(
  config: FunctionConfig,
  handler: Handler<TData>,
): EddyFunction<TData> {
  if (typeof handler !== "function") {
    throw new InvalidFunctionConfigError("handler", `must be a function, got ${typeof handler}`);
  }
  const fn = { config: resolveFunctionConfig(config), handler };
  Object.defineProperty(fn, FUNCTION_BRAND, { value: true });
  return fn;
}

/** True for a value returned by {@link defineFunction}, whichever copy of the SDK made it. */
export function isEddyFunction(value: unknown): value is EddyFunction {
  return (
    typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[FUNCTION_BRAND] === true
  );
}

/**
 * Validates a {@link FunctionConfig} and fills in the defaults.
 *
 * @example
 * resolveFunctionConfig({ triggers: [] }).retries.maxAttempts; // 3
 */
export function resolveFunctionConfig(config: FunctionConfig): ResolvedFunctionConfig {
  if (typeof config !== "object" || config === null) {
    throw new InvalidFunctionConfigError("", `the configuration must be an object, got ${String(config)}`);
  }
  if (config.name !== undefined && (typeof config.name !== "string" || !NAME.test(config.name))) {
    throw new InvalidFunctionConfigError(
      "name",
      `must be 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit; got ${JSON.stringify(config.name)}`,
    );
  }
  if (!Array.isArray(config.triggers)) {
    throw new InvalidFunctionConfigError("triggers", 'must be an array such as [on.event({ type: ["x"] })]');
  }
  config.triggers.forEach((t, i) => {
    if (typeof t !== "object" || t === null || t.kind !== "event") {
      throw new InvalidFunctionConfigError(`triggers[${i}]`, "must be a trigger made by on.event(...)");
    }
    validatePattern(t.pattern);
  });
  const retries = config.retries ?? {};
  const backoff = retries.backoff ?? {};
  const resolved: ResolvedFunctionConfig = {
    name: config.name,
    description: config.description,
    triggers: config.triggers.map((t) => ({ kind: t.kind, pattern: t.pattern })),
    retries: {
      maxAttempts: integer(retries.maxAttempts ?? 3, "retries.maxAttempts", 1, 1000),
      backoff: {
        initialMs: duration(backoff.initial ?? "1s", "retries.backoff.initial"),
        factor: number(backoff.factor ?? 2, "retries.backoff.factor", 1, 100),
        maxMs: duration(backoff.max ?? "5m", "retries.backoff.max"),
        jitter: oneOf(backoff.jitter ?? "full", "retries.backoff.jitter", ["full", "equal", "none"] as const),
      },
    },
    timeoutMs: duration(config.timeout ?? "30s", "timeout"),
    memoryMb: integer(config.memoryMb ?? 128, "memoryMb", 16, 16_384),
    concurrency: { max: integer(config.concurrency?.max ?? 10, "concurrency.max", 1, 10_000) },
    emits: config.emits ?? [],
  };
  if (resolved.timeoutMs < 1) throw new InvalidFunctionConfigError("timeout", "must be at least 1ms");
  return resolved;
}

function duration(value: unknown, path: string): number {
  try {
    return parseDuration(value, path);
  } catch (err) {
    throw new InvalidFunctionConfigError(path, (err as Error).message.replace(`${path} `, ""));
  }
}

function number(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new InvalidFunctionConfigError(
      path,
      `must be a number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function integer(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidFunctionConfigError(
      path,
      `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function oneOf<T extends string>(value: unknown, path: string, options: readonly T[]): T {
  if (!options.includes(value as T)) {
    throw new InvalidFunctionConfigError(
      path,
      `must be one of ${options.join(", ")}; got ${JSON.stringify(value)}`,
    );
  }
  return value as T;
}
