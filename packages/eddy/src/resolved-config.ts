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
import type { Trigger } from "./triggers/index.js";
import { kindList, triggerKind, triggersByKind } from "./triggers/index.js";
import type { WorkflowLimits } from "./workflow.js";

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
  // Options the triggers made (a queue's batchSize makes batch) are not the user's: leave them out.
  const derived = new Set(triggersByKind(triggers).flatMap(([kind, mine]) => kind.derived?.(mine) ?? []));
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
    sends: c.sends,
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
    batch:
      batch && !derived.has("batch")
        ? { maxSize: batch.maxSize, timeout: batch.timeoutMs, key: batch.key }
        : undefined,
    priority: optional(c.priority, "priority"),
    // Always resolved to a list; HTTP functions refuse any cancelOn given.
    cancelOn: Array.isArray(c.cancelOn) && c.cancelOn.length === 0 ? undefined : c.cancelOn,
    isolation: c.isolation,
    compat: c.compat,
  };
  return out as unknown as FunctionConfig;
}

/** The trigger its kind's constructor makes again of a resolved trigger. */
function trigger(t: Json, path: string): Trigger {
  try {
    const kind = triggerKind(t.kind);
    if (!kind) {
      throw new InvalidFunctionConfigError("kind", `must be ${kindList()}, got ${JSON.stringify(t.kind)}`);
    }
    return kind.rebuild(t);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw new InvalidFunctionConfigError(path, (err as Error).message);
    throw new InvalidFunctionConfigError(
      err.path ? `${path}.${err.path}` : path,
      err.message.replace(`${err.path}: `, ""),
    );
  }
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
