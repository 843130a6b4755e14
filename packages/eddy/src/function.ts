import type { CloudEvent, EventInput } from "./cloudevents.js";
import type { Duration } from "./duration.js";
import { parseDuration } from "./duration.js";
import { InvalidFunctionConfigError } from "./errors.js";
import type { FunctionKv } from "./kv.js";
import type { HttpFunctionConfig, HttpHandler } from "./http-function.js";
import type { Trigger } from "./triggers/index.js";
import { checkQueueName, kindList, triggerKind, triggersByKind, TRIGGER_KINDS } from "./triggers/index.js";
import type { WorkflowHandler, WorkflowLimits } from "./workflow.js";

/** Structured logger given to a function; lines are stored with the invocation. */
export interface FunctionLogger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Options of a queue send. */
export interface SendOptions {
  groupId?: string;
  dedupId?: string;
  delay?: Duration;
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
  /**
   * Sends a message to a queue — only if this attempt succeeds, like `emit`. FIFO queues need a
   * `groupId`; `dedupId` deduplicates for 5 minutes; `delay` holds the message back.
   */
  send(queue: string, body: unknown, options?: SendOptions): Promise<void>;
  /** Configuration and secrets given to this function by the server. */
  env: Readonly<Record<string, string>>;
  /** Aborted when the attempt times out or the server shuts down. */
  signal: AbortSignal;
  invocation: InvocationInfo;
  /** This function's durable key-value state (see {@link FunctionKv}). */
  kv: FunctionKv;
}

/** A function's code. Its return value is recorded with the invocation; a throw fails the attempt. */
export type Handler<TData = unknown> = (event: CloudEvent<TData>, ctx: FunctionContext) => unknown;

/**
 * What a batch handler may return: the ids (event `id`, i.e. the queue message id) of the items
 * that failed. Only those are retried; the others are done. Throwing fails the whole batch.
 */
export interface BatchResult {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The code of a batch function: gets up to `batch.maxSize` events at once. */
export type BatchHandler<TData = unknown> = (
  events: CloudEvent<TData>[],
  ctx: FunctionContext,
) => BatchResult | void | Promise<BatchResult | void>;

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
  /** A delivery older than this (since it was accepted) is dead-lettered instead of run again. */
  maxEventAge?: Duration;
}

/** Flow control: at most `limit` starts per `period`, with bursts up to `burst`; the excess waits. */
export interface ThrottleConfig {
  limit: number;
  period: Duration;
  /** Extra starts allowed at once on top of the steady rate. Default 0. */
  burst?: number;
  /** CEL expression over `event`: a separate throttle per value. */
  key?: string;
}

/** Flow control: at most `limit` runs per `period`; the excess is dropped (recorded as skipped). */
export interface RateLimitConfig {
  limit: number;
  period: Duration;
  key?: string;
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
    /** Attempts running at once ("reserved" concurrency). Default 10. */
    max?: number;
    /** CEL expression over `event` (e.g. "event.data.customerId"): limits runs per value… */
    key?: string;
    /** …to this many at once. Default 1. */
    perKey?: number;
    /** Sandboxes kept loaded and warm even when idle ("provisioned" concurrency). Default 0. */
    min?: number;
    /** A sandbox above `min` is stopped after this long without work. Default: the server's (60s). */
    idleTimeout?: Duration;
    /**
     * Attempts one sandbox runs at once, as Cloud Run's per-instance concurrency: fewer sandboxes
     * and much more throughput for I/O-bound handlers, but the attempts share the sandbox's
     * globals, memory and fate (one that times out stops the others). Default 1 (Lambda's one at a
     * time); HTTP functions (`on.http`): 16.
     */
    perSandbox?: number;
  };
  /**
   * Event types this function emits with `ctx.emit`: the choreography map (`eddy graph`) draws
   * them as declared edges. An emit of a type not listed is not refused; the map shows it as
   * observed. At most 100 types of 1-256 characters.
   */
  emits?: string[];
  /** Queues this function sends to with `ctx.send`, for the choreography map as `emits`. At most 100. */
  sends?: string[];
  /**
   * CEL expression over `event` (e.g. "event.data.orderId"): at most one successful run per value
   * within `idempotencyWindow`. Later events with the same key are recorded as skipped.
   */
  idempotencyKey?: string;
  /** Default "24h". */
  idempotencyWindow?: Duration;
  throttle?: ThrottleConfig;
  rateLimit?: RateLimitConfig;
  /** Waits for `period` of quiet per key, then runs once with the last event (never later than `maxWait`). */
  debounce?: { period: Duration; key?: string; maxWait?: Duration };
  /** Runs with up to `maxSize` events at once, after at most `timeout`; define with {@link defineBatchFunction}. */
  batch?: { maxSize: number; timeout: Duration; key?: string };
  /** CEL expression over `event` giving an integer: higher runs first among queued runs. */
  priority?: { run: string };
  /**
   * Events that cancel queued (not yet started) runs: an event of type `event` whose value at
   * `match` (a path such as "data.orderId") equals the triggering event's value at the same path.
   */
  cancelOn?: { event: string; match: string }[];
  /**
   * Where attempts run. "thread" (default): a worker thread, fast, for trusted code. "process": a
   * child process under Node's permission model, for code the operator trusts less. A server
   * started with `--isolation process` runs every function in a process whatever this says.
   */
  isolation?: "thread" | "process";
  /**
   * "aws": the module is a Lambda-style handler (`export const handler = async (event, context)`),
   * declared by `export const config = { compat: "aws", triggers: [...] }` beside it. The handler
   * gets the event in EventBridge's shape (queue messages in SQS's, requests in API Gateway's), a
   * Lambda-like context, and its env as `process.env` with Lambda's `AWS_*` variables.
   */
  compat?: "aws";
}

/** A function's configuration with every default filled in: what the server works with. JSON only. */
export interface ResolvedFunctionConfig {
  name: string | undefined;
  description: string | undefined;
  triggers: Trigger[];
  retries: {
    maxAttempts: number;
    backoff: { initialMs: number; factor: number; maxMs: number; jitter: "full" | "equal" | "none" };
    maxEventAgeMs?: number;
  };
  timeoutMs: number;
  memoryMb: number;
  concurrency: {
    max: number;
    key?: string;
    perKey?: number;
    min: number;
    idleTimeoutMs?: number;
    /** Absent: 1. */
    perSandbox?: number;
  };
  emits: string[];
  sends: string[];
  idempotency?: { key: string; windowMs: number };
  throttle?: { limit: number; periodMs: number; burst: number; key?: string };
  rateLimit?: { limit: number; periodMs: number; key?: string };
  debounce?: { periodMs: number; maxWaitMs: number; key?: string };
  batch?: { maxSize: number; timeoutMs: number; key?: string };
  priority?: { run: string };
  cancelOn: { event: string; match: string }[];
  isolation: "thread" | "process";
  compat?: "aws";
  /** Set for a workflow (`defineWorkflow`): its limits, in bytes and steps. */
  workflow?: { stepResultBytes: number; steps: number; stateBytes: number };
}

const FUNCTION_BRAND = Symbol.for("eddy.function");
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** What `defineFunction` returns: the module's default export. */
export interface EddyFunction<TData = unknown> {
  readonly config: ResolvedFunctionConfig;
  readonly handler: Handler<TData> | BatchHandler<TData> | HttpHandler | WorkflowHandler<TData>;
}

/**
 * Defines a function: its triggers and policies, and the handler that runs each event.
 * The configuration is checked here; a bad option throws {@link InvalidFunctionConfigError} naming it.
 *
 * With `on.http` triggers the handler gets a web-standard `Request` instead of an event.
 *
 * @example
 * export default defineFunction(
 *   { name: "send-receipt", triggers: [on.event({ type: ["order.paid"] })] },
 *   async (event, ctx) => ctx.log.info("paid", { order: event.data }),
 * );
 * export default defineFunction(
 *   { triggers: [on.http("GET /orders/:id", { public: true })] },
 *   async (request, ctx) => ({ id: ctx.params.id }),
 * );
 */
export function defineFunction<TData = unknown>(
  config: HttpFunctionConfig,
  handler: HttpHandler,
): EddyFunction<TData>;
export function defineFunction<TData = unknown>(
  config: FunctionConfig,
  handler: Handler<TData>,
): EddyFunction<TData>;
export function defineFunction<TData = unknown>(
  config: FunctionConfig,
  handler: Handler<TData> | HttpHandler,
): EddyFunction<TData> {
  if (typeof handler !== "function") {
    throw new InvalidFunctionConfigError("handler", `must be a function, got ${typeof handler}`);
  }
  const fn = { config: resolveFunctionConfig(config), handler };
  Object.defineProperty(fn, FUNCTION_BRAND, { value: true });
  return fn;
}

/**
 * Defines a batch function: its handler gets up to `batch.maxSize` events (or queue messages) at
 * once and may report which items failed, so that only those are retried.
 *
 * @example
 * export default defineBatchFunction(
 *   { name: "index", triggers: [on.queue("docs")], batch: { maxSize: 50, timeout: "2s" } },
 *   async (events) => ({ batchItemFailures: events.filter(bad).map((e) => ({ itemIdentifier: e.id })) }),
 * );
 */
export function defineBatchFunction<TData = unknown>(
  config: FunctionConfig,
  handler: BatchHandler<TData>,
): EddyFunction<TData> {
  if (typeof handler !== "function") {
    throw new InvalidFunctionConfigError("handler", `must be a function, got ${typeof handler}`);
  }
  const resolved = resolveFunctionConfig(config);
  if (!resolved.batch) {
    throw new InvalidFunctionConfigError(
      "batch",
      "a batch function needs batch: { maxSize, timeout } or on.queue(name, { batchSize })",
    );
  }
  const fn = { config: resolved, handler };
  Object.defineProperty(fn, FUNCTION_BRAND, { value: true });
  return fn;
}

/** `defineWorkflow`'s function (in workflow.ts): a function whose configuration has `workflow`. */
export function defineWorkflowFunction(
  config: FunctionConfig,
  limits: WorkflowLimits,
  handler: WorkflowHandler,
): EddyFunction {
  const fn = { config: resolveFunctionConfig(config, limits), handler };
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
export function resolveFunctionConfig(
  config: FunctionConfig,
  workflow?: WorkflowLimits,
): ResolvedFunctionConfig {
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
    const kind = typeof t === "object" && t !== null ? triggerKind(t.kind) : undefined;
    if (!kind) {
      throw new InvalidFunctionConfigError(`triggers[${i}]`, `must be a trigger made by ${kindList("on.")}`);
    }
    kind.check?.(t);
  });
  for (const [kind, triggers] of triggersByKind(config.triggers)) kind.checkFunction?.(config, triggers);
  checkLists(config);
  const retries = config.retries ?? {};
  const backoff = retries.backoff ?? {};
  const resolved: ResolvedFunctionConfig = {
    name: config.name,
    description: config.description,
    triggers: config.triggers.map((t) => ({ ...t })),
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
    concurrency: { max: integer(config.concurrency?.max ?? 10, "concurrency.max", 1, 10_000), min: 0 },
    emits: [...(config.emits ?? [])],
    sends: [...(config.sends ?? [])],
    cancelOn: [],
    isolation: "thread",
  };
  if (retries.maxEventAge !== undefined) {
    resolved.retries.maxEventAgeMs = duration(retries.maxEventAge, "retries.maxEventAge");
  }
  resolveFlowControl(config, resolved);
  if (resolved.timeoutMs < 1) throw new InvalidFunctionConfigError("timeout", "must be at least 1ms");
  resolveRuntimeOptions(config, resolved);
  if (workflow !== undefined) resolved.workflow = resolveWorkflow(config, resolved, workflow);
  return resolved;
}

const MIB = 1024 * 1024;

/** A workflow's limits, and what a workflow may not be (its runs start one per delivery). */
function resolveWorkflow(
  config: FunctionConfig,
  resolved: ResolvedFunctionConfig,
  limits: WorkflowLimits,
): NonNullable<ResolvedFunctionConfig["workflow"]> {
  if (typeof limits !== "object" || limits === null) {
    throw new InvalidFunctionConfigError("limits", "must be { stepResultBytes?, steps?, stateBytes? }");
  }
  if (resolved.batch) throw new InvalidFunctionConfigError("batch", "a workflow runs one event at a time");
  if (triggersByKind(config.triggers).some(([k]) => k === TRIGGER_KINDS.http)) {
    throw new InvalidFunctionConfigError(
      "triggers",
      "a workflow has no on.http trigger yet: start runs with POST /v1/workflows/NAME/runs",
    );
  }
  if (resolved.compat !== undefined)
    throw new InvalidFunctionConfigError("compat", "a workflow is not Lambda-style");
  const stepResultBytes = integer(limits.stepResultBytes ?? 4 * MIB, "limits.stepResultBytes", 1, 64 * MIB);
  return {
    stepResultBytes,
    steps: integer(limits.steps ?? 10_000, "limits.steps", 1, 1_000_000),
    stateBytes: integer(limits.stateBytes ?? 64 * MIB, "limits.stateBytes", stepResultBytes, 1024 * MIB),
  };
}

/** The options that are plain data: text and lists of names. */
function checkLists(config: FunctionConfig): void {
  if (config.description !== undefined && typeof config.description !== "string") {
    throw new InvalidFunctionConfigError("description", `must be a string, got ${typeof config.description}`);
  }
  names(config.emits, "emits", 'must be an array of event types such as ["receipt.sent"]', (type, path) => {
    if (type === "" || type.length > 256) {
      throw new InvalidFunctionConfigError(
        path,
        `must be an event type of 1-256 characters, got ${JSON.stringify(type)}`,
      );
    }
  });
  names(config.sends, "sends", 'must be an array of queue names such as ["thumbnails"]', checkQueueName);
  if (config.cancelOn !== undefined && !Array.isArray(config.cancelOn)) {
    throw new InvalidFunctionConfigError(
      "cancelOn",
      'must be an array such as [{ event: "order.cancelled", match: "data.orderId" }]',
    );
  }
  const priority: unknown = config.priority;
  if (priority !== undefined && (typeof priority !== "object" || priority === null)) {
    throw new InvalidFunctionConfigError("priority", 'must be { run: "<CEL expression>" }');
  }
}

/** Most names an `emits` or `sends` list takes. */
const MAX_DECLARED = 100;

/** Checks an optional list of names (`emits`, `sends`): an array of strings, each checked by `check`. */
function names(
  value: unknown,
  path: string,
  shape: string,
  check: (name: string, path: string) => void,
): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || value.some((e) => typeof e !== "string")) {
    throw new InvalidFunctionConfigError(path, shape);
  }
  if (value.length > MAX_DECLARED) {
    throw new InvalidFunctionConfigError(
      path,
      `must list at most ${MAX_DECLARED} names, got ${value.length}`,
    );
  }
  (value as string[]).forEach((name, i) => check(name, `${path}[${i}]`));
}

/** The flow-control options; CEL expressions are only checked for presence here, the server compiles them. */
function resolveFlowControl(config: FunctionConfig, out: ResolvedFunctionConfig): void {
  const c = config.concurrency;
  if (c?.key !== undefined) {
    out.concurrency.key = expression(c.key, "concurrency.key");
    out.concurrency.perKey = integer(c.perKey ?? 1, "concurrency.perKey", 1, 10_000);
  } else if (c?.perKey !== undefined) {
    throw new InvalidFunctionConfigError(
      "concurrency.perKey",
      "needs concurrency.key, the expression that names the key",
    );
  }
  if (config.idempotencyKey !== undefined) {
    out.idempotency = {
      key: expression(config.idempotencyKey, "idempotencyKey"),
      windowMs: duration(config.idempotencyWindow ?? "24h", "idempotencyWindow"),
    };
  }
  if (config.throttle !== undefined) {
    const t = config.throttle;
    out.throttle = {
      limit: integer(t.limit, "throttle.limit", 1, 1_000_000),
      periodMs: positive(duration(t.period, "throttle.period"), "throttle.period"),
      burst: integer(t.burst ?? 0, "throttle.burst", 0, 1_000_000),
    };
    if (t.key !== undefined) out.throttle.key = expression(t.key, "throttle.key");
  }
  if (config.rateLimit !== undefined) {
    const r = config.rateLimit;
    out.rateLimit = {
      limit: integer(r.limit, "rateLimit.limit", 1, 1_000_000),
      periodMs: positive(duration(r.period, "rateLimit.period"), "rateLimit.period"),
    };
    if (r.key !== undefined) out.rateLimit.key = expression(r.key, "rateLimit.key");
  }
  if (config.debounce !== undefined) {
    const d = config.debounce;
    const periodMs = positive(duration(d.period, "debounce.period"), "debounce.period");
    out.debounce = {
      periodMs,
      maxWaitMs: d.maxWait !== undefined ? duration(d.maxWait, "debounce.maxWait") : Infinity,
    };
    if (out.debounce.maxWaitMs < periodMs) {
      throw new InvalidFunctionConfigError("debounce.maxWait", "must be at least debounce.period");
    }
    if (d.key !== undefined) out.debounce.key = expression(d.key, "debounce.key");
  }
  // A trigger may make options itself (a queue's batchSize makes batch), refusing them given too.
  for (const [kind, triggers] of triggersByKind(out.triggers)) kind.resolve?.(config, triggers, out);
  if (config.batch !== undefined) {
    const b = config.batch;
    out.batch = {
      maxSize: integer(b.maxSize, "batch.maxSize", 1, 10_000),
      timeoutMs: duration(b.timeout, "batch.timeout"),
    };
    if (b.key !== undefined) out.batch.key = expression(b.key, "batch.key");
  }
  if (config.priority !== undefined) out.priority = { run: expression(config.priority.run, "priority.run") };
  (config.cancelOn ?? []).forEach((c, i) => {
    if (typeof c?.event !== "string" || c.event === "") {
      throw new InvalidFunctionConfigError(`cancelOn[${i}].event`, "must be an event type");
    }
    if (typeof c.match !== "string" || !/^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/.test(c.match)) {
      throw new InvalidFunctionConfigError(
        `cancelOn[${i}].match`,
        `must be a path such as "data.orderId", got ${JSON.stringify(c.match)}`,
      );
    }
    out.cancelOn.push({ event: c.event, match: c.match });
  });
}

function expression(value: unknown, path: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new InvalidFunctionConfigError(
      path,
      `must be a CEL expression over event, such as "event.data.id"; got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function positive(ms: number, path: string): number {
  if (ms <= 0) throw new InvalidFunctionConfigError(path, "must be longer than 0");
  return ms;
}

/** The runtime options (sandbox kind, warm pool, compatibility), checked and filled into `out`. */
function resolveRuntimeOptions(config: FunctionConfig, out: ResolvedFunctionConfig): void {
  const c = config.concurrency ?? {};
  out.concurrency.min = integer(c.min ?? 0, "concurrency.min", 0, out.concurrency.max);
  if (c.idleTimeout !== undefined) {
    out.concurrency.idleTimeoutMs = duration(c.idleTimeout, "concurrency.idleTimeout");
  }
  // A kind may run several attempts per sandbox by default (HTTP functions: 16).
  const byKind = triggersByKind(config.triggers).find(([k]) => k.perSandbox !== undefined)?.[0].perSandbox;
  if (c.perSandbox !== undefined || byKind !== undefined) {
    out.concurrency.perSandbox = integer(c.perSandbox ?? byKind, "concurrency.perSandbox", 1, 1000);
  }
  out.isolation = oneOf(config.isolation ?? "thread", "isolation", ["thread", "process"] as const);
  if (config.compat !== undefined) out.compat = oneOf(config.compat, "compat", ["aws"] as const);
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
