import type { ResolvedFunctionConfig } from "eddy";
import type { ErrorInfo } from "../backends/types.js";
import type { SandboxChannel, SandboxExit, SandboxKind } from "./channel.js";
import {
  FunctionLoadError,
  FunctionOutOfMemoryError,
  FunctionTimeoutError,
  SandboxCrashedError,
  SandboxHandOffError,
} from "../errors/attempt.js";
import type {
  AttemptResult,
  Compensation,
  FromSandbox,
  InspectResult,
  InvokeRequest,
  KvCall,
  LoadRequest,
  StepCall,
  StepReply,
  ToSandbox,
} from "./protocol.js";
import { checkReturned } from "./returned.js";
import { boundError, serializeError } from "./worker/serialize.js";

/** Runs a `ctx.kv` call of the loaded function (the engine binds it to the function's namespace). */
export type KvService = (call: KvCall) => Promise<unknown>;

/** Serves the step calls of one workflow execution (workflows/steps.ts): journals, then answers. */
export type StepService = (call: StepCall) => Promise<StepReply>;

/** What loading a bundle into a sandbox found. */
export interface Loaded {
  config: ResolvedFunctionConfig;
  /** Module import and evaluation inside the sandbox. */
  loadMs: number;
}

interface Pending {
  id: string;
  resolve: (r: AttemptResult) => void;
  started: number;
  timer: NodeJS.Timeout;
  steps: StepService | undefined;
}

/**
 * One sandbox (thread or process) and the protocol with the host inside it: started blank, loaded
 * with one function's bundle, then one attempt at a time (or up to `capacity` at once, for a
 * function with `concurrency.perSandbox`). Limits are enforced from outside: on a timeout, an
 * exhausted heap or any crash the sandbox is killed, its attempts resolve with a typed error (the
 * one that timed out with FunctionTimeoutError, the others with SandboxCrashedError), and `dead`
 * turns true so its pool replaces it. `invoke` never rejects.
 */
export class Sandbox {
  readonly kind: SandboxKind;
  readonly memoryMb: number;
  readonly #channel: SandboxChannel;
  readonly #ready: Promise<void>;
  readonly #pending = new Map<string, Pending>();
  /** Attempts it may run at once (`concurrency.perSandbox`). */
  capacity = 1;
  #loading: ((msg: FromSandbox | SandboxExit) => void) | undefined;
  #dead = false;
  #exit: SandboxExit | undefined;
  #seq = 0;
  #kv: KvService | undefined;
  #killed: Promise<void> | undefined;

  constructor(channel: SandboxChannel, memoryMb: number) {
    this.kind = channel.kind;
    this.memoryMb = memoryMb;
    this.#channel = channel;
    let ready: () => void;
    let failed: (err: Error) => void;
    this.#ready = new Promise<void>((resolve, reject) => ((ready = resolve), (failed = reject)));
    this.#ready.catch(() => undefined);
    channel.onMessage((msg) => {
      if (msg.t === "ready") ready();
      else if (msg.t === "kv") this.#onKv(msg);
      else if (msg.t === "step") this.#onStep(msg);
      else if (msg.t === "result") this.#onResult(msg);
      else if (msg.t === "memory-exceeded")
        this.#fail(new FunctionOutOfMemoryError(this.memoryMb, msg.usedMb));
      else this.#loading?.(msg);
    });
    channel.onExit((exit) => {
      this.#exit = exit;
      failed(new SandboxCrashedError(`${exit.detail} while starting`));
      this.#loading?.(exit);
      this.#fail(this.#error(exit));
    });
  }

  /** Resolves once the host inside is running (a blank sandbox); rejects if it died first. */
  ready(timeoutMs: number): Promise<void> {
    return withTimeout(this.#ready, timeoutMs, () => {
      void this.terminate();
      return new SandboxCrashedError(`the ${this.kind} sandbox did not start within ${timeoutMs} ms`);
    });
  }

  /** True once the sandbox died or was stopped: never reuse it. */
  get dead(): boolean {
    return this.#dead;
  }

  get busy(): boolean {
    return this.#pending.size > 0;
  }

  /** Attempts running now. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /**
   * Loads one function's bundle; resolves what the module declared. A module that fails to load,
   * or takes longer than `timeoutMs` (a top-level infinite loop), fails with FunctionLoadError and
   * the sandbox is stopped.
   */
  async load(req: LoadRequest, timeoutMs: number, kv?: KvService): Promise<Loaded> {
    await this.#ready;
    if (this.#loading) throw new Error("Sandbox loads one bundle: take another sandbox for another bundle");
    this.#kv = kv;
    const loaded = new Promise<Loaded>((resolve, reject) => {
      this.#loading = (msg) => {
        if ("oom" in msg) return reject(new FunctionLoadError(req.file, `${msg.detail} while loading`));
        if (msg.t === "loaded") resolve({ config: msg.config, loadMs: msg.loadMs });
        else if (msg.t === "load-failed")
          reject(new FunctionLoadError(req.file, boundError(msg.error).message));
      };
    });
    this.#channel.send({ t: "load", ...req } satisfies ToSandbox);
    try {
      return await withTimeout(
        loaded,
        timeoutMs,
        () => new FunctionLoadError(req.file, `the module did not finish loading within ${timeoutMs} ms`),
      );
    } catch (err) {
      void this.terminate();
      throw err;
    }
  }

  /**
   * Reads the configurations of many modules in this one sandbox, which is stopped afterwards:
   * cheaper than a sandbox per module when the code is trusted (the modules share a realm while
   * their configuration is read). Rejects if it takes longer than `timeoutMs` or the sandbox dies.
   */
  async inspect(items: LoadRequest[], timeoutMs: number): Promise<InspectResult[]> {
    await this.#ready;
    if (this.#loading) throw new Error("Sandbox loads one bundle: take another sandbox to inspect more");
    const done = new Promise<InspectResult[]>((resolve, reject) => {
      this.#loading = (msg) => {
        if ("oom" in msg) reject(new SandboxCrashedError(`${msg.detail} while reading configurations`));
        else if (msg.t === "inspected") {
          if (!Array.isArray(msg.results))
            reject(new SandboxCrashedError("it sent malformed configurations"));
          else resolve(msg.results.map((r) => (r.ok ? r : { ok: false, error: boundError(r.error) })));
        }
      };
    });
    this.#channel.send({ t: "inspect", items } satisfies ToSandbox);
    try {
      return await withTimeout(
        done,
        timeoutMs,
        () => new SandboxCrashedError(`reading configurations took over ${timeoutMs} ms`),
      );
    } finally {
      void this.terminate();
    }
  }

  /**
   * Runs one attempt; resolves with its result, including timeouts and crashes. `steps` serves a
   * workflow execution's step calls.
   */
  invoke(req: InvokeRequest, timeoutMs: number, steps?: StepService): Promise<AttemptResult> {
    if (this.#dead) {
      const err = this.#exit
        ? this.#error(this.#exit)
        : new SandboxCrashedError("the sandbox is no longer running");
      return Promise.resolve(failure(serializeError(err), 0));
    }
    if (this.#pending.size >= this.capacity) {
      throw new Error(
        `a sandbox runs ${this.capacity} attempt(s) at a time: wait for one to finish (SandboxPool does)`,
      );
    }
    const id = String(++this.#seq);
    return new Promise<AttemptResult>((resolve) => {
      const timer = setTimeout(() => this.#fail(new FunctionTimeoutError(timeoutMs), id), timeoutMs);
      this.#pending.set(id, { id, resolve, started: performance.now(), timer, steps });
      try {
        // An attempt whose message does not serialize fails alone; the sandbox stays usable.
        this.#channel.send({ t: "invoke", id, ...req } satisfies ToSandbox, (err) => {
          const p = this.#pending.get(id);
          const e = new SandboxHandOffError(`${err.name}: ${err.message}`);
          if (p) this.#settle(p, failure(serializeError(e), performance.now() - p.started));
        });
      } catch (err) {
        this.#fail(new SandboxCrashedError(`could not reach the sandbox: ${(err as Error).message}`));
      }
    });
  }

  /** Aborts `ctx.signal` of the attempts in flight, if any (shutdown). */
  abort(reason: string): void {
    if (this.#dead) return;
    for (const id of this.#pending.keys()) {
      try {
        this.#channel.send({ t: "abort", id, reason });
      } catch {
        // Gone already: the exit handler fails the attempt.
      }
    }
  }

  /** Stops the sandbox; an attempt in flight fails with SandboxCrashedError. */
  async terminate(): Promise<void> {
    this.#fail(new SandboxCrashedError("the sandbox was stopped"));
    await this.#killed;
  }

  #error(exit: SandboxExit): Error {
    return exit.oom ? new FunctionOutOfMemoryError(this.memoryMb) : new SandboxCrashedError(exit.detail);
  }

  #onResult(raw: Extract<FromSandbox, { t: "result" }>): void {
    const p = this.#pending.get(raw.id);
    if (!p) return;
    const durationMs = performance.now() - p.started;
    // Not trusted: a process sandbox's code can send anything. Errors are cut to size, the rest checked.
    const msg = raw.ok ? raw : { ...raw, error: boundError(raw.error) };
    const refused = checkReturned(msg);
    if (refused) return this.#settle(p, failure(serializeError(refused), durationMs));
    const { logs, logsTruncated } = msg;
    this.#settle(
      p,
      msg.ok
        ? {
            ok: true,
            emits: msg.emits,
            sends: msg.sends,
            ...(msg.failedItems ? { failedItems: msg.failedItems } : {}),
            ...(msg.result !== undefined ? { result: msg.result } : {}),
            ...(msg.suspended === true ? { suspended: true } : {}),
            logs,
            logsTruncated,
            durationMs,
          }
        : {
            ok: false,
            error: msg.error,
            ...compensation(msg.compensation),
            logs,
            logsTruncated,
            durationMs,
          },
    );
  }

  #onKv(msg: Extract<FromSandbox, { t: "kv" }>): void {
    const reply = (r: { ok: true; value: unknown } | { ok: false; error: ErrorInfo }) => {
      if (this.#dead) return;
      try {
        this.#channel.send({ t: "kv-reply", rpc: msg.rpc, ...r } as ToSandbox);
      } catch {
        // The sandbox died meanwhile; nobody is waiting.
      }
    };
    // Only the attempt in flight may use ctx.kv: a leftover timer of an earlier one may not.
    if (!this.#kv || !this.#pending.has(msg.id)) {
      return reply({ ok: false, error: { name: "Error", message: "ctx.kv used outside of its attempt" } });
    }
    const { t: _t, rpc: _rpc, id: _id, ...call } = msg;
    this.#kv(call).then(
      (value) => reply({ ok: true, value }),
      (err: unknown) => reply({ ok: false, error: serializeError(err) }),
    );
  }

  #onStep(msg: Extract<FromSandbox, { t: "step" }>): void {
    const reply = (r: { ok: true; value: StepReply } | { ok: false; error: ErrorInfo }) => {
      if (this.#dead) return;
      try {
        this.#channel.send({ t: "step-reply", rpc: msg.rpc, ...r } as ToSandbox);
      } catch {
        // The sandbox died meanwhile; nobody is waiting.
      }
    };
    // Only the execution in flight may take steps; what it sends is checked by the service.
    const steps = this.#pending.get(msg.id)?.steps;
    if (!steps || typeof msg.call !== "object" || msg.call === null) {
      return reply({ ok: false, error: { name: "Error", message: "a step was taken outside of its run" } });
    }
    steps(msg.call).then(
      (value) => reply({ ok: true, value }),
      (err: unknown) => reply({ ok: false, error: serializeError(err) }),
    );
  }

  /**
   * The sandbox is unusable: fail the attempts in flight (if any) and stop it. `culprit`: the
   * attempt that timed out gets `err`; the others, stopped with it, SandboxCrashedError.
   */
  #fail(err: Error, culprit?: string): void {
    const wasDead = this.#dead;
    this.#dead = true;
    for (const p of [...this.#pending.values()]) {
      const e =
        culprit === undefined || p.id === culprit
          ? err
          : new SandboxCrashedError(`another attempt in this sandbox failed: ${err.message}`);
      this.#settle(p, failure(serializeError(e), performance.now() - p.started));
    }
    if (!wasDead) this.#killed = this.#channel.kill().catch(() => undefined);
  }

  #settle(p: Pending, result: AttemptResult): void {
    if (this.#pending.get(p.id) !== p) return;
    clearTimeout(p.timer);
    this.#pending.delete(p.id);
    p.resolve(result);
  }
}

function failure(error: ErrorInfo, durationMs: number): AttemptResult {
  return { ok: false, error, logs: [], logsTruncated: false, durationMs };
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A sandbox's report of a run's compensations, checked (it is not trusted). */
function compensation(c: Compensation | undefined): { compensation?: Compensation } {
  if (c?.status === "compensated") return { compensation: { status: "compensated" } };
  if (c?.status === "compensation_failed") {
    return { compensation: { status: "compensation_failed", error: boundError(c.error) } };
  }
  return {};
}
