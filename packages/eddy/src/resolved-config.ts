/**
 * Checking a configuration that claims to be resolved. The server learns a function's
 * configuration from a sandbox, where the module's own code ran: it may have changed
 * `fn.config` after `defineFunction` checked it, or built the object by hand. So the server
 * trusts no field of it: it rebuilds the options a user would have written, resolves them again
 * with the same checks as `defineFunction`, and accepts the configuration only if it is exactly
 * what that resolution gives.
 */
import type { FunctionConfig, ResolvedFunctionConfig } from "./function.js";
import { resolveFunctionConfig } from "./function.js";
import { InvalidFunctionConfigError, ValidationError } from "./errors.js";
import type { HttpTrigger, HttpTriggerOptions } from "./http-trigger.js";
import { httpTrigger } from "./http-trigger.js";
import type { Trigger } from "./triggers.js";
import type { WorkflowLimits } from "./workflow.js";
import { on } from "./triggers.js";

type Json = Record<string, unknown>;

/**
 * Returns a fresh copy of `value` if it is a configuration `defineFunction` could have made, and
 * throws {@link InvalidFunctionConfigError} naming the first option that is not.
 *
 * @example
 * checkResolvedConfig(defineFunction({ triggers: [] }, () => {}).config); // ok
 * checkResolvedConfig({ ...config, memoryMb: -1 }); // throws "memoryMb: must be an integer from 16 to 16384, got -1"
 */
export function checkResolvedConfig(value: unknown): ResolvedFunctionConfig {
  let resolved: ResolvedFunctionConfig;
  try {
    const c = record(value, "");
    const workflow = optional(c.workflow, "workflow");
    resolved = resolveFunctionConfig(unresolve(c), workflow as WorkflowLimits | undefined);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // defineFunction would have thrown at import: the module changed its configuration afterwards.
    throw new InvalidFunctionConfigError(err.path, `${err.message.replace(`${err.path}: `, "")}${HINT}`);
  }
  const differs = difference(value, resolved, "");
  if (differs !== undefined) {
    throw new InvalidFunctionConfigError(
      differs,
      `is not what defineFunction makes of this configuration${HINT}`,
    );
  }
  return resolved;
}

const HINT = " (was fn.config changed after defineFunction? Put every option in the defineFunction call)";

/** The options that resolve to `c` if it is a resolved configuration. */
function unresolve(c: Json): FunctionConfig {
  const retries = optional(c.retries, "retries") ?? {};
  const backoff = optional(retries.backoff, "retries.backoff") ?? {};
  const concurrency = optional(c.concurrency, "concurrency") ?? {};
  const idempotency = optional(c.idempotency, "idempotency");
  const throttle = optional(c.throttle, "throttle");
  const rateLimit = optional(c.rateLimit, "rateLimit");
  const debounce = optional(c.debounce, "debounce");
  const batch = optional(c.batch, "batch");
  if (!Array.isArray(c.triggers)) throw new InvalidFunctionConfigError("triggers", "must be an array");
  const triggers = c.triggers.map((t, i) => trigger(record(t, `triggers[${i}]`), `triggers[${i}]`));
  const fromQueue = triggers.some((t) => t.kind === "queue" && t.batchSize !== undefined);
  const out = {
    name: c.name,
    description: c.description,
    triggers,
    retries: {
      maxAttempts: retries.maxAttempts,
      backoff: {
        initial: backoff.initialMs,
        factor: backoff.factor,
        max: backoff.maxMs,
        jitter: backoff.jitter,
      },
      maxEventAge: retries.maxEventAgeMs,
    },
    timeout: c.timeoutMs,
    memoryMb: c.memoryMb,
    concurrency: {
      max: concurrency.max,
      key: concurrency.key,
      perKey: concurrency.perKey,
      min: concurrency.min,
      idleTimeout: concurrency.idleTimeoutMs,
      perSandbox: concurrency.perSandbox,
    },
    emits: c.emits,
    idempotencyKey: idempotency?.key,
    idempotencyWindow: idempotency && (idempotency.windowMs ?? null),
    throttle: throttle && {
      limit: throttle.limit,
      period: throttle.periodMs,
      burst: throttle.burst,
      key: throttle.key,
    },
    rateLimit: rateLimit && { limit: rateLimit.limit, period: rateLimit.periodMs, key: rateLimit.key },
    debounce: debounce && {
      period: debounce.periodMs,
      key: debounce.key,
      maxWait: debounce.maxWaitMs === Infinity ? undefined : (debounce.maxWaitMs ?? null),
    },
    // A queue trigger's batchSize makes `batch` itself; giving both is refused.
    batch:
      batch && !fromQueue ? { maxSize: batch.maxSize, timeout: batch.timeoutMs, key: batch.key } : undefined,
    priority: optional(c.priority, "priority"),
    // Always resolved to a list; HTTP functions refuse any cancelOn given.
    cancelOn: Array.isArray(c.cancelOn) && c.cancelOn.length === 0 ? undefined : c.cancelOn,
    isolation: c.isolation,
    compat: c.compat,
  };
  return out as unknown as FunctionConfig;
}

/** The trigger constructors' arguments for a resolved trigger, run through them again. */
function trigger(t: Json, path: string): Trigger {
  try {
    switch (t.kind) {
      case "event":
        return on.event(t.pattern as never);
      case "queue":
        return on.queue(t.queue as string, {
          batchSize: t.batchSize as number | undefined,
          batchWindow: t.batchWindowMs as number | undefined,
        });
      case "schedule":
        return on.schedule(t.cron as string, {
          tz: t.tz as string | undefined,
          missed: t.missed as "skip" | undefined,
        });
      case "http":
        return httpTrigger(`${String(t.method)} ${String(t.path)}`, httpOptions(t as unknown as HttpTrigger));
      default:
        throw new InvalidFunctionConfigError(
          "kind",
          `must be event, queue, schedule or http, got ${JSON.stringify(t.kind)}`,
        );
    }
  } catch (err) {
    if (!(err instanceof ValidationError)) throw new InvalidFunctionConfigError(path, (err as Error).message);
    throw new InvalidFunctionConfigError(
      err.path ? `${path}.${err.path}` : path,
      err.message.replace(`${err.path}: `, ""),
    );
  }
}

function httpOptions(t: HttpTrigger): HttpTriggerOptions {
  const cors = t.cors as Partial<HttpTrigger["cors"]> | undefined;
  return {
    mode: t.mode,
    public: t.public,
    scopes: t.scopes,
    schema: t.schema,
    maxBody: t.maxBodyBytes,
    timeout: t.timeoutMs,
    cors: cors && {
      origins: cors.origins!,
      headers: cors.headers,
      exposeHeaders: cors.exposeHeaders,
      credentials: cors.credentials,
      maxAge: cors.maxAgeS === undefined ? undefined : cors.maxAgeS * 1000,
    },
    cache: t.cache && {
      ttl: t.cache.ttlMs,
      headers: t.cache.headers,
      query: t.cache.query,
      shared: t.cache.shared,
    },
    rateLimit: t.rateLimit && {
      limit: t.rateLimit.limit,
      period: t.rateLimit.periodMs,
      burst: t.rateLimit.burst,
      by: t.rateLimit.by,
    },
    callback: t.callback,
    summary: t.summary,
    description: t.description,
  };
}

function record(value: unknown, path: string): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new InvalidFunctionConfigError(
      path,
      `must be an object, got ${JSON.stringify(value) ?? typeof value}`,
    );
  }
  return value as Json;
}

function optional(value: unknown, path: string): Json | undefined {
  return value === undefined ? undefined : record(value, path);
}

/** The path of the first place where `a` and `b` differ (a member set to undefined counts as absent). */
function difference(a: unknown, b: unknown, path: string): string | undefined {
  if (Object.is(a, b)) return undefined;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return path || "(root)";
  if (Array.isArray(a) !== Array.isArray(b)) return path || "(root)";
  if (Array.isArray(a)) {
    const list = b as unknown[];
    if (a.length !== list.length) return path;
    for (let i = 0; i < a.length; i++) {
      const d = difference(a[i], list[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  const x = a as Json;
  const y = b as Json;
  const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
  for (const k of keys) {
    const d = difference(x[k], y[k], path ? `${path}.${k}` : k);
    if (d !== undefined) return d;
  }
  return undefined;
}
