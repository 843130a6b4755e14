import { Worker } from "node:worker_threads";
import type { ResolvedFunctionConfig } from "eddy";
import type { ErrorInfo } from "../backends/types.js";
import {
  FunctionLoadError,
  FunctionOutOfMemoryError,
  FunctionTimeoutError,
  SandboxCrashedError,
} from "./errors.js";
import type { AttemptResult, FromSandbox, InvokeRequest, ToSandbox } from "./protocol.js";
import { serializeError } from "./worker/host.js";

const ENTRY = new URL("./worker/thread-entry.js", import.meta.url);

/** What a sandbox is started with. */
export interface SandboxSpec {
  bundlePath: string;
  /** Shown in errors. */
  file: string;
  memoryMb: number;
  env: Record<string, string>;
}

/** A started sandbox and what its module declared. */
export interface StartedSandbox {
  sandbox: ThreadSandbox;
  config: ResolvedFunctionConfig;
  startMs: number;
  loadMs: number;
}

interface Pending {
  id: string;
  resolve: (r: AttemptResult) => void;
  started: number;
  timer: NodeJS.Timeout;
  req: InvokeRequest;
}

/**
 * A worker-thread sandbox running one function's bundle, one attempt at a time. It enforces the
 * timeout and the heap limit from outside: on either, or on any crash, the worker is terminated,
 * the attempt resolves with a typed error, and `dead` turns true so the pool replaces it.
 * `invoke` never rejects.
 */
export class ThreadSandbox {
  readonly #worker: Worker;
  readonly #memoryMb: number;
  #pending: Pending | undefined;
  #dead = false;
  #seq = 0;
  #oom = false;

  private constructor(worker: Worker, memoryMb: number) {
    this.#worker = worker;
    this.#memoryMb = memoryMb;
    worker.on("message", (msg: FromSandbox) => this.#onMessage(msg));
    worker.on("error", (err: Error & { code?: string }) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") this.#oom = true;
      this.#fail(
        this.#oom
          ? new FunctionOutOfMemoryError(this.#memoryMb)
          : new SandboxCrashedError(`uncaught ${err.name}: ${err.message}`, { cause: err }),
      );
    });
    worker.on("exit", (code) => this.#fail(new SandboxCrashedError(`the sandbox exited with code ${code}`)));
  }

  /** Starts a worker, loads the bundle, and resolves with the module's declared configuration. */
  static start(spec: SandboxSpec): Promise<StartedSandbox> {
    const t0 = performance.now();
    const worker = new Worker(ENTRY, {
      env: {},
      resourceLimits: { maxOldGenerationSizeMb: spec.memoryMb, maxYoungGenerationSizeMb: 16 },
      stdout: false,
      stderr: false,
    });
    const sandbox = new ThreadSandbox(worker, spec.memoryMb);
    return new Promise<StartedSandbox>((resolve, reject) => {
      const onMessage = (msg: FromSandbox) => {
        if (msg.t === "loaded") {
          cleanup();
          resolve({ sandbox, config: msg.config, startMs: performance.now() - t0, loadMs: msg.loadMs });
        } else if (msg.t === "load-failed") {
          cleanup();
          void worker.terminate();
          reject(new FunctionLoadError(spec.file, msg.error.message));
        }
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new FunctionLoadError(spec.file, `the sandbox exited with code ${code} while loading`));
      };
      const cleanup = () => {
        worker.off("message", onMessage);
        worker.off("exit", onExit);
      };
      worker.on("message", onMessage);
      worker.on("exit", onExit);
      worker.postMessage({ t: "load", bundlePath: spec.bundlePath, env: spec.env } satisfies ToSandbox);
    });
  }

  /** True once the worker died or was terminated: the pool must not reuse it. */
  get dead(): boolean {
    return this.#dead;
  }

  get busy(): boolean {
    return this.#pending !== undefined;
  }

  /** Runs one attempt; resolves with its result, including timeouts and crashes. */
  invoke(req: InvokeRequest, timeoutMs: number): Promise<AttemptResult> {
    if (this.#dead) {
      return Promise.resolve(failure(new SandboxCrashedError("the sandbox is no longer running"), 0));
    }
    if (this.#pending) throw new Error("ThreadSandbox runs one attempt at a time");
    const id = String(++this.#seq);
    return new Promise<AttemptResult>((resolve) => {
      const timer = setTimeout(() => this.#fail(new FunctionTimeoutError(timeoutMs)), timeoutMs);
      this.#pending = { id, resolve, started: performance.now(), timer, req };
      try {
        this.#worker.postMessage({ t: "invoke", id, ...req } satisfies ToSandbox);
      } catch (err) {
        this.#settle(failure(serializeError(err), 0));
      }
    });
  }

  /** Stops the worker; an attempt in flight fails with SandboxCrashedError. */
  async terminate(): Promise<void> {
    this.#dead = true;
    await this.#worker.terminate();
  }

  #onMessage(msg: FromSandbox): void {
    if (msg.t !== "result" || !this.#pending || msg.id !== this.#pending.id) return;
    const durationMs = performance.now() - this.#pending.started;
    this.#settle(
      msg.ok
        ? {
            ok: true,
            emits: msg.emits,
            sends: msg.sends,
            ...(msg.failedItems ? { failedItems: msg.failedItems } : {}),
            logs: msg.logs,
            logsTruncated: msg.logsTruncated,
            durationMs,
          }
        : { ok: false, error: msg.error, logs: msg.logs, logsTruncated: msg.logsTruncated, durationMs },
    );
  }

  /** The sandbox is unusable: fail the attempt in flight (if any) and stop the worker. */
  #fail(err: Error): void {
    const wasDead = this.#dead;
    this.#dead = true;
    if (this.#pending) {
      this.#settle(failure(serializeError(err), performance.now() - this.#pending.started));
    }
    if (!wasDead) void this.#worker.terminate();
  }

  #settle(result: AttemptResult): void {
    const p = this.#pending;
    if (!p) return;
    clearTimeout(p.timer);
    this.#pending = undefined;
    p.resolve(result);
  }
}

function failure(error: ErrorInfo, durationMs: number): AttemptResult {
  return { ok: false, error, logs: [], logsTruncated: false, durationMs };
}
