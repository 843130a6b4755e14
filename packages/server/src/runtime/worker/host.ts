/**
 * The code that runs inside a sandbox, around the user's module: loads it, builds the context of
 * each attempt, and turns the outcome into a message. Transport-free: the thread and the process
 * sandbox wire it to their own channel.
 */
import type {
  CloudEvent,
  EventInput,
  FunctionContext,
  FunctionKv,
  HttpContext,
  KvItem,
  SendOptions,
} from "eddy";
import { AsyncLocalStorage } from "node:async_hooks";
import * as sdk from "eddy";
import * as sdkInternal from "eddy/internal";
import { validateCloudEvent } from "eddy";
import { parseDuration } from "eddy/internal";
import type {
  Compensation,
  FromSandbox,
  InspectResult,
  KvCall,
  LoadRequest,
  QueueSend,
  StepCall,
  StepReply,
  ToSandbox,
} from "../protocol.js";
import { SDK_GLOBAL } from "../protocol.js";
import { checkReturned } from "../returned.js";
import { jsonResult, toRequest, toResponseData } from "./http.js";
import { captureConsole, LogBuffer } from "./logs.js";
import { guardMemory } from "./memory.js";
import type { LoadedModule } from "./module.js";
import { loadModule } from "./module.js";
import { redactor, safeString, serializeError } from "./serialize.js";
import { WorkflowExecution } from "./workflow.js";
import { WriteConflictError } from "../../errors/http.js";

export { serializeError } from "./serialize.js";

const MAX_KV_KEY = 512;
const MAX_KV_VALUE_BYTES = 256 * 1024;
const KV_UPDATE_TRIES = 10;

interface Attempt {
  id: string;
  logs: LogBuffer;
  abort: AbortController;
}

/** The host's message handler; `running()`: attempts in flight. */
export type Host = ((msg: ToSandbox) => void) & { running(): number };

/** Handles engine messages; `send` posts replies back. */
export function createHost(send: (msg: FromSandbox) => void): Host {
  // Bundles take the SDK from here instead of carrying a copy (see bundler.ts). A bundle checks
  // that every name its SDK exported is here, and bundles made before `eddy/internal` split off
  // (stored versions, an older `eddy deploy`) listed the internal helpers too: keep them findable.
  (globalThis as Record<symbol, unknown>)[Symbol.for(SDK_GLOBAL)] = Object.freeze({ ...sdkInternal, ...sdk });
  let fn: LoadedModule | undefined;
  let env: Record<string, string> = {};
  let redact = (text: string) => text;
  // One attempt at a time: `current`. With concurrency.perSandbox > 1, several: `console.*` is
  // told which by an AsyncLocalStorage, made only then (async hooks cost on every promise).
  let current: Attempt | undefined;
  let context: AsyncLocalStorage<Attempt> | undefined;
  const running = new Map<string, Attempt>();
  let rpcSeq = 0;
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  const memory = guardMemory((usedMb) => send({ t: "memory-exceeded", usedMb }));
  captureConsole(() => {
    const a = context ? context.getStore() : current;
    return a && running.get(a.id) === a ? a.logs : undefined;
  });

  const kvCall = (attempt: Attempt, call: KvCall): Promise<unknown> => {
    // Only the attempt itself may write: a timer left over from it must not touch state later.
    if (running.get(attempt.id) !== attempt) {
      return Promise.reject(new Error("ctx.kv used after its attempt ended"));
    }
    const rpc = ++rpcSeq;
    return new Promise((resolve, reject) => {
      calls.set(rpc, { resolve, reject });
      send({ t: "kv", rpc, id: attempt.id, ...call });
    });
  };

  const stepCall = (attempt: Attempt, call: StepCall): Promise<StepReply> => {
    if (running.get(attempt.id) !== attempt)
      return Promise.reject(new Error("a step taken after its run's execution ended"));
    const rpc = ++rpcSeq;
    return new Promise((resolve, reject) => {
      calls.set(rpc, { resolve: resolve as (v: unknown) => void, reject });
      send({ t: "step", rpc, id: attempt.id, call });
    });
  };

  const load = async (msg: Extract<ToSandbox, { t: "load" }>) => {
    const started = performance.now();
    try {
      env = msg.env;
      redact = redactor(env);
      fn = await loadModule(msg);
      memory.limit(fn.config.memoryMb);
      if ((fn.config.concurrency.perSandbox ?? 1) > 1) context = new AsyncLocalStorage<Attempt>();
      send({ t: "loaded", config: fn.config, loadMs: performance.now() - started });
    } catch (err) {
      send({ t: "load-failed", error: serializeError(err, redact) });
    }
  };

  const invoke = async (msg: Extract<ToSandbox, { t: "invoke" }>) => {
    if (!fn)
      throw new Error("invoke before load: the engine sends load first (a bug in the sandbox protocol)");
    const attempt: Attempt = { id: msg.id, logs: new LogBuffer(redact), abort: new AbortController() };
    current = attempt;
    running.set(msg.id, attempt);
    memory.running(true);
    const emits: CloudEvent[] = [];
    const sends: QueueSend[] = [];
    let signal: AbortSignal | undefined;
    const ctx: FunctionContext & Partial<HttpContext> = {
      log: attempt.logs.logger(),
      env,
      // Built on first use: most handlers never look, and each signal arms a timer.
      get signal() {
        return (signal ??= AbortSignal.any([
          attempt.abort.signal,
          AbortSignal.timeout(Math.max(0, msg.info.deadline - Date.now())),
        ]));
      },
      invocation: msg.info,
      emit: (input) => {
        for (const e of Array.isArray(input) ? input : [input])
          emits.push(completeEmit(e, msg, emits.length));
        return Promise.resolve();
      },
      send: (queue, body, options = {}) => {
        sends.push(queueSend(queue, body, options));
        return Promise.resolve();
      },
      kv: kvClient((call) => kvCall(attempt, call)),
    };
    const http = msg.http;
    if (http) {
      ctx.params = http.params;
      ctx.route = http.route;
      ctx.requestId = http.requestId;
    }
    let suspended = false;
    let compensation: Compensation | undefined;
    try {
      const loaded = fn;
      const wf =
        msg.workflow && loaded.runWorkflow && loaded.config.workflow
          ? new WorkflowExecution(msg.workflow, loaded.config.workflow, msg.emitSource, (c) =>
              stepCall(attempt, c),
            )
          : undefined;
      const run = async () => {
        if (wf) {
          const r = await wf.run(() => loaded.runWorkflow!(msg.event, wf.step, ctx));
          if ("value" in r) return r.value;
          if ("failed" in r) {
            const c = r.compensation;
            compensation =
              c.status === "compensated"
                ? c
                : { status: c.status, error: serializeError(c.error, (text) => redact(fn!.mapStack(text))) };
            throw r.failed;
          }
          suspended = true;
          return undefined;
        }
        if (!http) {
          // The handler runs in its attempt's span: that is the trace context its events carry.
          if (msg.traceparent !== undefined)
            for (const e of msg.batch ?? [msg.event]) e.traceparent = msg.traceparent;
          return loaded.run(msg.event, ctx, msg.batch, msg.messages);
        }
        if (loaded.runHttp) return loaded.runHttp(http, ctx);
        return toResponseData(await loaded.run(toRequest(http), ctx));
      };
      const out = await (context ? context.run(attempt, run) : run());
      const result = http ? out : jsonResult(out);
      running.delete(msg.id);
      current = undefined;
      memory.running(running.size > 0);
      const failedItems = msg.batch ? batchFailures(out) : undefined;
      const logs = { logs: attempt.logs.lines, logsTruncated: attempt.logs.truncated };
      const done: FromSandbox = {
        t: "result",
        id: msg.id,
        ok: true,
        emits,
        sends,
        ...(failedItems ? { failedItems } : {}),
        ...(result !== undefined ? { result } : {}),
        ...(suspended ? { suspended } : {}),
        ...logs,
      };
      // Checked here too, where it is cheap, so that the author reads why and not a timeout.
      const refused = checkReturned(done);
      send(refused ? { t: "result", id: msg.id, ok: false, error: serializeError(refused), ...logs } : done);
    } catch (err) {
      running.delete(msg.id);
      current = undefined;
      memory.running(running.size > 0);
      send({
        t: "result",
        id: msg.id,
        ok: false,
        error: serializeError(err, (text) => redact(fn!.mapStack(text))),
        ...(compensation ? { compensation } : {}),
        logs: attempt.logs.lines,
        logsTruncated: attempt.logs.truncated,
      });
    }
  };

  const inspect = async (items: LoadRequest[]) => {
    const results: InspectResult[] = [];
    for (const item of items) {
      try {
        results.push({ ok: true, config: (await loadModule(item)).config });
      } catch (err) {
        results.push({ ok: false, error: serializeError(err, redactor(item.env)) });
      }
    }
    send({ t: "inspected", results });
  };

  const handle = (msg: ToSandbox) => {
    switch (msg.t) {
      case "load":
        void load(msg);
        return;
      case "inspect":
        void inspect(msg.items);
        return;
      case "invoke":
        void invoke(msg);
        return;
      case "abort":
        running.get(msg.id)?.abort.abort(new DOMException(msg.reason, "AbortError"));
        return;
      case "kv-reply":
      case "step-reply": {
        const call = calls.get(msg.rpc);
        calls.delete(msg.rpc);
        if (!call) return;
        if (msg.ok) call.resolve(msg.value);
        else
          call.reject(
            Object.assign(new Error(msg.error.message), { name: msg.error.name, code: msg.error.code }),
          );
        return;
      }
    }
  };
  return Object.assign(handle, { running: () => running.size });
}

/** `ctx.kv` over the engine call; arguments are checked here, where the author can see the mistake. */
function kvClient(call: (c: KvCall) => Promise<unknown>): FunctionKv {
  const key = (k: unknown, op: string): string => {
    if (typeof k !== "string" || k.length < 1 || k.length > MAX_KV_KEY) {
      throw new TypeError(
        `ctx.kv.${op}: key must be a string of 1-${MAX_KV_KEY} characters, got ${safeString(k)}`,
      );
    }
    return k;
  };
  const kv: FunctionKv = {
    get: async <T>(k: string) => (await call({ op: "get", key: key(k, "get") })) as KvItem<T> | undefined,
    set: async (k, value, options = {}) => {
      const json = JSON.stringify(value);
      if (json === undefined)
        throw new TypeError(`ctx.kv.set(${safeString(k)}): the value is not JSON-serializable`);
      if (json.length > MAX_KV_VALUE_BYTES) {
        throw new RangeError(
          `ctx.kv.set(${safeString(k)}): the value is ${json.length} bytes of JSON, over ${MAX_KV_VALUE_BYTES}`,
        );
      }
      const c: KvCall = { op: "set", key: key(k, "set"), value: JSON.parse(json) as unknown };
      if (options.ttl !== undefined) c.ttlMs = parseDuration(options.ttl, "ctx.kv.set ttl");
      if (options.ifVersion !== undefined) c.ifVersion = options.ifVersion;
      return (await call(c)) as number | undefined;
    },
    delete: async (k, options = {}) => {
      const c: KvCall = { op: "delete", key: key(k, "delete") };
      if (options.ifVersion !== undefined) c.ifVersion = options.ifVersion;
      return (await call(c)) as boolean;
    },
    update: async <T>(k: string, f: (current: T | undefined) => T, options: { ttl?: unknown } = {}) => {
      for (let i = 0; i < KV_UPDATE_TRIES; i++) {
        const cur = await kv.get<T>(k);
        const next = f(cur?.value);
        const set = {
          ifVersion: cur?.version ?? 0,
          ...(options.ttl !== undefined ? { ttl: options.ttl as never } : {}),
        };
        if ((await kv.set(k, next, set)) !== undefined) return next;
      }
      throw new WriteConflictError(
        `ctx.kv.update(${safeString(k)}): ${KV_UPDATE_TRIES} concurrent writes in a row; giving up`,
      );
    },
  };
  return kv;
}

function completeEmit(input: EventInput, msg: Extract<ToSandbox, { t: "invoke" }>, n: number): CloudEvent {
  // Through JSON: what is published is exactly what a JSON consumer will see (Dates become strings).
  const event = {
    ...(JSON.parse(safeString(input)) as EventInput),
    specversion: "1.0",
    id: input.id ?? `${msg.emitIdPrefix}.${n}`,
    source: input.source ?? msg.emitSource,
  } as CloudEvent;
  // Without a traceparent of its own, the engine makes the event a child of this attempt's span.
  const problems = validateCloudEvent(event);
  if (problems.length > 0) {
    // Thrown inside the handler, where the author can see which emit was wrong.
    throw new TypeError(
      `ctx.emit: invalid event: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ")}`,
    );
  }
  return event;
}

function queueSend(queue: unknown, body: unknown, options: SendOptions): QueueSend {
  if (typeof queue !== "string" || queue === "")
    throw new TypeError("ctx.send: the queue name must be a non-empty string");
  const out: QueueSend = { queue, body: JSON.parse(safeString(body ?? null)) as unknown };
  if (options.groupId !== undefined) out.groupId = String(options.groupId);
  if (options.dedupId !== undefined) out.dedupId = String(options.dedupId);
  if (options.delay !== undefined) out.delayMs = parseDuration(options.delay, "ctx.send delay");
  return out;
}

/** Reads a batch handler's `{ batchItemFailures: [{ itemIdentifier }] }`, as Lambda does for SQS. */
function batchFailures(out: unknown): string[] | undefined {
  const list = (out as { batchItemFailures?: unknown } | undefined)?.batchItemFailures;
  if (!Array.isArray(list)) return undefined;
  return list
    .map((f) => (f as { itemIdentifier?: unknown } | null)?.itemIdentifier)
    .filter((id): id is string => typeof id === "string");
}
