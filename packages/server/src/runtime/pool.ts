import type { AttemptResult, InvokeRequest } from "./protocol.js";
import type { SandboxSpec, StartedSandbox } from "./thread-sandbox.js";
import { ThreadSandbox } from "./thread-sandbox.js";
import { SandboxCrashedError } from "./errors.js";
import { serializeError } from "./worker/host.js";

/** Options of one function's pool. */
export interface PoolOptions {
  spec: SandboxSpec;
  /** Sandboxes at most: the function's `concurrency.max`. */
  max: number;
  /** An idle sandbox is stopped after this long; at zero load the pool holds none. */
  idleMs: number;
}

/** A snapshot of a pool, for the API. */
export interface PoolState {
  warm: number;
  busy: number;
  max: number;
  coldStarts: number;
}

interface Idle {
  sandbox: ThreadSandbox;
  timer: NodeJS.Timeout;
}

/**
 * The sandboxes of one function version. Attempts take an idle sandbox or start one (a cold start)
 * up to `max`; a sandbox returns to the idle list after its attempt, unless it died, and is stopped
 * after `idleMs` without work, so an idle function costs nothing.
 */
export class SandboxPool {
  readonly #options: PoolOptions;
  readonly #idle: Idle[] = [];
  readonly #waiters: ((s: ThreadSandbox | Error) => void)[] = [];
  #live = 0;
  /** Every started sandbox, idle or busy. */
  readonly #all = new Set<ThreadSandbox>();
  #busy = 0;
  #coldStarts = 0;
  #closed = false;

  constructor(options: PoolOptions, warm?: StartedSandbox) {
    this.#options = options;
    if (warm) {
      this.#live++;
      this.#all.add(warm.sandbox);
      this.#release(warm.sandbox);
    }
  }

  state(): PoolState {
    return {
      warm: this.#idle.length,
      busy: this.#busy,
      max: this.#options.max,
      coldStarts: this.#coldStarts,
    };
  }

  /** Runs one attempt in a sandbox of this pool. Never rejects. */
  async invoke(req: InvokeRequest, timeoutMs: number): Promise<AttemptResult> {
    let sandbox: ThreadSandbox;
    let coldStartMs: number | undefined;
    const t0 = performance.now();
    try {
      const acquired = await this.#acquire();
      sandbox = acquired.sandbox;
      // This attempt started the sandbox it runs in: a cold start.
      if (acquired.cold) coldStartMs = performance.now() - t0;
    } catch (err) {
      return { ok: false, error: serializeError(err), logs: [], logsTruncated: false, durationMs: 0 };
    }
    this.#busy++;
    try {
      const result = await sandbox.invoke(req, timeoutMs);
      return coldStartMs !== undefined ? { ...result, coldStartMs } : result;
    } finally {
      this.#busy--;
      this.#release(sandbox);
    }
  }

  /**
   * Stops the idle sandboxes, and the busy ones when they finish; with `force`, the busy ones now
   * (their attempts fail with SandboxCrashedError).
   */
  async close(force = false): Promise<void> {
    this.#closed = true;
    if (force) await Promise.all([...this.#all].map((s) => s.terminate()));
    const idle = this.#idle.splice(0);
    for (const w of this.#waiters.splice(0)) w(new SandboxCrashedError("the pool is closing"));
    await Promise.all(
      idle.map((i) => {
        clearTimeout(i.timer);
        this.#live--;
        this.#all.delete(i.sandbox);
        return i.sandbox.terminate();
      }),
    );
  }

  async #acquire(): Promise<{ sandbox: ThreadSandbox; cold: boolean }> {
    if (this.#closed) throw new SandboxCrashedError("the pool is closed");
    const idle = this.#idle.pop();
    if (idle) {
      clearTimeout(idle.timer);
      return { sandbox: idle.sandbox, cold: false };
    }
    if (this.#live < this.#options.max) {
      this.#live++;
      this.#coldStarts++;
      try {
        const { sandbox } = await ThreadSandbox.start(this.#options.spec);
        this.#all.add(sandbox);
        return { sandbox, cold: true };
      } catch (err) {
        this.#live--;
        throw err;
      }
    }
    return new Promise<{ sandbox: ThreadSandbox; cold: boolean }>((resolve, reject) => {
      this.#waiters.push((s) => (s instanceof Error ? reject(s) : resolve({ sandbox: s, cold: false })));
    });
  }

  #release(sandbox: ThreadSandbox): void {
    if (sandbox.dead || this.#closed) {
      this.#live--;
      this.#all.delete(sandbox);
      if (!sandbox.dead) void sandbox.terminate();
      // A waiter may now start a fresh sandbox in the freed slot.
      const waiter = this.#waiters.shift();
      if (waiter) void this.#acquire().then((a) => waiter(a.sandbox), waiter);
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) return waiter(sandbox);
    const timer = setTimeout(() => {
      const i = this.#idle.findIndex((x) => x.sandbox === sandbox);
      if (i >= 0) {
        this.#idle.splice(i, 1);
        this.#live--;
        this.#all.delete(sandbox);
        void sandbox.terminate();
      }
    }, this.#options.idleMs);
    timer.unref();
    this.#idle.push({ sandbox, timer });
  }
}
