/**
 * The code that runs inside a sandbox, around the user's module: loads it, builds the context of
 * each attempt, and turns the outcome into a message. Transport-free, so the thread sandbox and
 * (later) the process sandbox share it.
 */
import { pathToFileURL } from "node:url";
import type {
  BatchHandler,
  CloudEvent,
  EddyFunction,
  EventInput,
  FunctionContext,
  FunctionLogger,
  Handler,
  SendOptions,
} from "eddy";
import {
  isEddyError,
  isEddyFunction,
  isNonRetriableError,
  isRetryAfterError,
  parseDuration,
  validateCloudEvent,
} from "eddy";
import type { LogLine } from "../../backends/types.js";
import type { FromSandbox, QueueSend, SandboxError, ToSandbox } from "../protocol.js";

const MAX_LOG_LINES = 500;
const MAX_LOG_BYTES = 64 * 1024;
const MAX_LINE_CHARS = 8 * 1024;

/** Handles engine messages; `send` posts replies back. */
export function createHost(send: (msg: FromSandbox) => void): (msg: ToSandbox) => Promise<void> {
  let fn: EddyFunction | undefined;
  let env: Record<string, string> = {};

  return async (msg) => {
    if (msg.t === "load") {
      const started = performance.now();
      try {
        const mod = (await import(pathToFileURL(msg.bundlePath).href)) as { default?: unknown };
        if (!isEddyFunction(mod.default)) {
          throw new Error(
            'the default export must be defineFunction(config, handler) from "eddy"; got ' +
              (mod.default === undefined ? "no default export" : typeof mod.default),
          );
        }
        fn = mod.default;
        env = msg.env;
        send({ t: "loaded", config: fn.config, loadMs: performance.now() - started });
      } catch (err) {
        send({ t: "load-failed", error: serializeError(err) });
      }
      return;
    }
    if (!fn) throw new Error("invoke before load");
    const logs = new LogBuffer();
    const emits: CloudEvent[] = [];
    const sends: QueueSend[] = [];
    const ctx: FunctionContext = {
      log: logs.logger(),
      env,
      signal: AbortSignal.timeout(Math.max(0, msg.info.deadline - Date.now())),
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
    };
    try {
      const out: unknown = msg.batch
        ? await (fn.handler as BatchHandler)(msg.batch, ctx)
        : await (fn.handler as Handler)(msg.event, ctx);
      const failedItems = msg.batch ? batchFailures(out) : undefined;
      send({
        t: "result",
        id: msg.id,
        ok: true,
        emits,
        sends,
        ...(failedItems ? { failedItems } : {}),
        logs: logs.lines,
        logsTruncated: logs.truncated,
      });
    } catch (err) {
      send({
        t: "result",
        id: msg.id,
        ok: false,
        error: serializeError(err),
        logs: logs.lines,
        logsTruncated: logs.truncated,
      });
    }
  };
}

function completeEmit(input: EventInput, msg: Extract<ToSandbox, { t: "invoke" }>, n: number): CloudEvent {
  // Through JSON: what is published is exactly what a JSON consumer will see (Dates become strings).
  const event = {
    ...(JSON.parse(safeString(input)) as EventInput),
    specversion: "1.0",
    id: input.id ?? `${msg.emitIdPrefix}.${n}`,
    source: input.source ?? msg.emitSource,
  } as CloudEvent;
  // The emitted event continues the trace as a child of this attempt's span.
  const parent = msg.traceparent ?? msg.event.traceparent;
  if (parent !== undefined && event.traceparent === undefined) event.traceparent = parent;
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

function safeString(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Collects `ctx.log` lines, bounded in count and bytes; what does not fit is dropped and marked. */
class LogBuffer {
  readonly lines: LogLine[] = [];
  truncated = false;
  #bytes = 0;

  logger(): FunctionLogger {
    const at = (level: LogLine["level"]) => (msg: string, fields?: Record<string, unknown>) =>
      this.#push(level, msg, fields);
    return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  }

  #push(level: LogLine["level"], msg: unknown, fields: Record<string, unknown> | undefined): void {
    if (this.truncated) return;
    let text = typeof msg === "string" ? msg : safeString(msg);
    if (text.length > MAX_LINE_CHARS) text = text.slice(0, MAX_LINE_CHARS) + "…[truncated]";
    const line: LogLine = { level, time: Date.now(), msg: text };
    if (fields !== undefined) {
      // Through JSON: the line must cross the boundary (no functions, no cycles) and stay bounded.
      const json = safeString(fields);
      line.fields =
        json.length > MAX_LINE_CHARS
          ? { truncated: json.slice(0, MAX_LINE_CHARS) }
          : (JSON.parse(json) as Record<string, unknown>);
    }
    const size = text.length + (line.fields ? safeString(line.fields).length : 0);
    if (this.lines.length >= MAX_LOG_LINES || this.#bytes + size > MAX_LOG_BYTES) {
      this.truncated = true;
      return;
    }
    this.#bytes += size;
    this.lines.push(line);
  }
}
