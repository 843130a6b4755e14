/**
 * Messages between the engine and a sandbox. Plain structured-cloneable (thread) or JSON (process)
 * data only: a sandbox is a separate realm or process, so classes and symbols do not cross, and
 * `undefined` members may be dropped.
 */
import { basename, extname } from "node:path";
import type { CloudEvent, InvocationInfo, ResolvedFunctionConfig } from "eddy";
import type { ErrorInfo, LogLine, StepRow } from "../backends/types.js";

/** The global (`Symbol.for`) under which a sandbox provides the eddy SDK to bundles (see bundler.ts). */
export const SDK_GLOBAL = "eddy.sdk";

/** A function's name: its config's, or its file's without folder and extension. */
export function functionName(file: string, config: { name?: string | undefined }): string {
  return config.name ?? basename(file, extname(file));
}

/** An error as it crosses the sandbox boundary, with the delivery hints read off its brands. */
export interface SandboxError extends ErrorInfo {
  /** Thrown as `NonRetriableError`: dead-letter now. */
  nonRetriable?: boolean;
  /** Thrown as `RetryAfterError`: the next attempt waits this long. */
  retryAfterMs?: number;
}

/** A queue message sent with `ctx.send`, published only if the attempt succeeds. */
export interface QueueSend {
  queue: string;
  body: unknown;
  groupId?: string;
  dedupId?: string;
  delayMs?: number;
}

/**
 * An HTTP request as it crosses into a sandbox, where the host rebuilds a web-standard `Request`.
 * Bodies are text, or base64 for bytes (`bodyEncoding`), so that both channels carry them.
 */
export interface HttpRequestData {
  method: string;
  /** Absolute URL as the client addressed it. */
  url: string;
  headers: [string, string][];
  body?: string;
  bodyEncoding?: "base64";
  /** Path parameters of the route. */
  params: Record<string, string>;
  /** `METHOD /path` of the route that matched. */
  route: string;
  requestId: string;
  /** The client's address (Lambda-style handlers see it as `requestContext.http.sourceIp`). */
  clientIp?: string;
}

/** An HTTP function's response, as the host turned its `Response` or plain value into data. */
export interface HttpResponseData {
  status: number;
  headers: [string, string][];
  body?: string;
  bodyEncoding?: "base64";
}

/** What a queue message's delivery adds to it, for SQS-shaped events (compat "aws"). */
export interface QueueMessageInfo {
  /** How many times it was handed out, this time included. */
  receiveCount: number;
  /** When it was sent (epoch ms). */
  sentAt: number;
  /** The receipt handle of this delivery (as `POST /v1/queues/NAME/receive` gives). */
  receiptHandle: string;
  /** Its position in the log. */
  sequence: number;
}

/** What a sandbox needs to run one attempt. */
export interface InvokeRequest {
  /** The event; for a batch function, the first of `batch`. */
  event: CloudEvent;
  /** A batch function's events (it is called with this array). */
  batch?: CloudEvent[];
  info: InvocationInfo;
  /** Default `source` of emitted events. */
  emitSource: string;
  /** Emitted events without an id get `<prefix>.<n>`: stable across retries, so repeats dedupe. */
  emitIdPrefix: string;
  /** The attempt's span: the parent of the events it emits. */
  traceparent?: string;
  /** An HTTP function's request: the handler gets it as a `Request` instead of the event. */
  http?: HttpRequestData;
  /** A compat "aws" queue consumer's messages, one per event of `batch ?? [event]`. */
  messages?: QueueMessageInfo[];
  /** The trigger event's position in the log (a workflow run starts from it). */
  eventSeq?: number;
  /** An execution of a workflow run: the handler gets `step`, replayed from this journal. */
  workflow?: WorkflowInvoke;
}

/** What an execution of a workflow run starts from. */
export interface WorkflowInvoke {
  runId: string;
  /** The run's journal so far: finished steps return from here without a call to the engine. */
  steps: StepRow[];
  /** The server clock's time at the start of the execution (sleeps and retries are due by it). */
  now: number;
}

/** Which step a call is about: its id and the order in which the handler called it. */
export interface StepRef {
  id: string;
  index: number;
}

/** Resolved retry options of one step (`step.run(id, fn, { retries })`). */
export interface StepRetries {
  maxAttempts?: number;
  backoff?: Partial<ResolvedFunctionConfig["retries"]["backoff"]>;
}

/** A step reaching the engine, which journals it durably before it answers. */
/** A compensation's step id: this, then the id of the `run` step it undoes. */
export const COMPENSATE_PREFIX = "compensate:";

export type StepCall =
  | { op: "done"; step: StepRef; result?: unknown; bytes: number; startedAt: number; compensates?: string }
  | {
      op: "failed";
      step: StepRef;
      error: SandboxError;
      startedAt: number;
      retries?: StepRetries;
      /** A compensation's call (a `compensate` step): the id of the `run` step it undoes. */
      compensates?: string;
    }
  | { op: "sleep"; step: StepRef; ms?: number; until?: number }
  | { op: "wait"; step: StepRef; type: string; match?: string; if?: string; timeoutMs: number }
  | { op: "send"; step: StepRef; events: CloudEvent[] }
  | { op: "invoke"; step: StepRef; workflow: string; data?: unknown; timeoutMs?: number };

/** The engine's answer to a {@link StepCall}: the step's value, its final error, or "blocked" (the run suspends). */
export type StepReply =
  { status: "done"; result?: unknown } | { status: "failed"; error: ErrorInfo } | { status: "blocked" };

/** What a sandbox loads: one function's bundle. */
export interface LoadRequest {
  /** Source file, relative to the app folder: shown in errors. */
  file: string;
  /** Thread sandboxes import the bundle from here. */
  bundlePath?: string;
  /** Process sandboxes may not read files: they get the bundle's code instead. */
  source?: string;
  /** `ctx.env`; its values are masked in captured logs and errors. */
  env: Record<string, string>;
  /** `region` of EventBridge-shaped events (compat "aws"). */
  region?: string;
}

/** The configuration one module declared, or why it did not load. */
export type InspectResult = { ok: true; config: ResolvedFunctionConfig } | { ok: false; error: ErrorInfo };

/** A `ctx.kv` operation, run by the engine on the backend in the function's namespace. */
export type KvCall =
  | { op: "get"; key: string }
  | { op: "set"; key: string; value: unknown; ttlMs?: number; ifVersion?: number }
  | { op: "delete"; key: string; ifVersion?: number };

/**
 * Messages sent in one turn of the event loop travel together, one `postMessage` for all of them
 * (thread sandboxes): a wake-up of the other thread costs more than the copy of a message.
 */
export interface Many<T> {
  t: "many";
  msgs: T[];
}

/** Engine → sandbox. */
export type ToSandbox =
  | ({ t: "load" } & LoadRequest)
  | ({ t: "invoke"; id: string } & InvokeRequest)
  /** Reads the configuration of many modules in one sandbox (trusted code only); it is discarded after. */
  | { t: "inspect"; items: LoadRequest[] }
  /** Aborts `ctx.signal` of the attempt in flight (shutdown). */
  | { t: "abort"; id: string; reason: string }
  | { t: "kv-reply"; rpc: number; ok: true; value: unknown }
  | { t: "kv-reply"; rpc: number; ok: false; error: ErrorInfo }
  | { t: "step-reply"; rpc: number; ok: true; value: StepReply }
  | { t: "step-reply"; rpc: number; ok: false; error: ErrorInfo };

/** Sandbox → engine. */
export type FromSandbox =
  /** The sandbox is up, its host loaded, no function yet: a blank one, ready to load. */
  | { t: "ready" }
  | { t: "loaded"; config: ResolvedFunctionConfig; loadMs: number }
  | { t: "load-failed"; error: ErrorInfo }
  | { t: "inspected"; results: InspectResult[] }
  | ({ t: "kv"; rpc: number; id: string } & KvCall)
  | { t: "step"; rpc: number; id: string; call: StepCall }
  /** Its ArrayBuffers and Buffers passed `memoryMb` (worker/memory.ts): stop it. */
  | { t: "memory-exceeded"; usedMb: number }
  | {
      t: "result";
      id: string;
      ok: true;
      emits: CloudEvent[];
      sends: QueueSend[];
      /** A batch handler's batchItemFailures: ids of the events to retry. */
      failedItems?: string[];
      /** What the handler returned, as JSON data; an HTTP function's {@link HttpResponseData}. */
      result?: unknown;
      /** A workflow execution stopped at a step that blocks (a sleep, a wait, a retry): the run suspends. */
      suspended?: boolean;
      logs: LogLine[];
      logsTruncated: boolean;
    }
  | {
      t: "result";
      id: string;
      ok: false;
      error: SandboxError;
      /** A workflow handler's failure after which compensations ran (a saga). */
      compensation?: Compensation;
      logs: LogLine[];
      logsTruncated: boolean;
    };

/** How the compensations of a failed workflow run ended: all ran, or one failed for good. */
export type Compensation = { status: "compensated" } | { status: "compensation_failed"; error: SandboxError };

/** How one attempt ended, as the dispatcher sees it. */
export type AttemptResult =
  | {
      ok: true;
      emits: CloudEvent[];
      sends: QueueSend[];
      failedItems?: string[];
      /** What the handler returned (see the `result` message). */
      result?: unknown;
      suspended?: boolean;
      logs: LogLine[];
      logsTruncated: boolean;
      durationMs: number;
      /** Set when the attempt had to start its sandbox: how long that took. */
      coldStartMs?: number;
    }
  | {
      ok: false;
      error: SandboxError;
      compensation?: Compensation;
      logs: LogLine[];
      logsTruncated: boolean;
      durationMs: number;
      coldStartMs?: number;
    };
