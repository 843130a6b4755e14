/**
 * Messages between the engine and a sandbox. Plain structured-cloneable data only: a sandbox is a
 * separate realm (thread) or process, so classes and symbols do not cross.
 */
import type { CloudEvent, InvocationInfo, ResolvedFunctionConfig } from "eddy";
import type { ErrorInfo, LogLine } from "../backends/types.js";

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
}

/** Engine → sandbox. */
export type ToSandbox =
  | { t: "load"; bundlePath: string; env: Record<string, string> }
  | ({ t: "invoke"; id: string } & InvokeRequest);

/** Sandbox → engine. */
export type FromSandbox =
  | { t: "loaded"; config: ResolvedFunctionConfig; loadMs: number }
  | { t: "load-failed"; error: ErrorInfo }
  | {
      t: "result";
      id: string;
      ok: true;
      emits: CloudEvent[];
      sends: QueueSend[];
      /** A batch handler's batchItemFailures: ids of the events to retry. */
      failedItems?: string[];
      logs: LogLine[];
      logsTruncated: boolean;
    }
  | {
      t: "result";
      id: string;
      ok: false;
      error: SandboxError;
      logs: LogLine[];
      logsTruncated: boolean;
    };

/** How one attempt ended, as the dispatcher sees it. */
export type AttemptResult =
  | {
      ok: true;
      emits: CloudEvent[];
      sends: QueueSend[];
      failedItems?: string[];
      logs: LogLine[];
      logsTruncated: boolean;
      durationMs: number;
      /** Set when the attempt had to start its sandbox: how long that took. */
      coldStartMs?: number;
    }
  | {
      ok: false;
      error: SandboxError;
      logs: LogLine[];
      logsTruncated: boolean;
      durationMs: number;
      coldStartMs?: number;
    };
