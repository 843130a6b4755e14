import type { ColdStartStats, PoolView } from "eddy";
import { readFileSync } from "node:fs";
import type { BlankPool } from "./blank-pool.js";
import type { SandboxKind } from "./channel.js";
import { SandboxCrashedError } from "../errors/attempt.js";
import type { AttemptResult, InvokeRequest, LoadRequest } from "./protocol.js";
import type { KvService, Sandbox, StepService } from "./sandbox.js";
import { serializeError } from "./worker/serialize.js";

/** Options of one function version's pool. */
export interface PoolOptions {
  kind: SandboxKind;
  /** The bundle to load; process sandboxes get its code (they may not read files). */
  load: Omit<LoadRequest, "source">;
  memoryMb: number;
  /**
   * Sandboxes at most: the function's `concurrency.max` ("reserved"). With `perSandbox`, as Cloud
   * Run's max instances × per-instance concurrency; the dispatcher caps event attempts at `max`.
   */
  max: number;
  /** Sandboxes kept loaded even when idle: `concurrency.min` ("provisioned"). */
  min: number;
  /** Attempts one sandbox runs at once (`concurrency.perSandbox`). Default 1. */
  perSandbox?: number;
  /** A sandbox above `min` is stopped after this long without work. */
  idleMs: number;
  /** A module that takes longer to load fails with FunctionLoadError. */
  loadTimeoutMs: number;
  kv?: KvService;
  /** Told when keeping `min` sandboxes warm fails (it is retried on the next attempt). */
  onError?: (err: unknown) => void;
}

/** Cold starts of a function (counted and timed), and a snapshot of a pool: the API shows them as is. */
export type { ColdStartStats };
export type PoolState = PoolView;

interface Idle {
  sandbox: Sandbox;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The sandboxes of one function version. An attempt takes an idle sandbox or, below `max`, makes
 * one (a cold start: a blank sandbox from the shared {@link BlankPool}, then the module load); so
 * the pool scales up with the work in flight. A sandbox returns to the idle list after its attempt
 * unless it died (then it is replaced when needed), and is stopped after `idleMs` without work
 * unless that would leave fewer than `min`: a function without `min` costs nothing when idle.
 */
export class SandboxPool {
  readonly #options: PoolOptions;
  readonly #blanks: BlankPool;
  readonly #idle: Idle[] = [];
  readonly #busy = new Set<Sandbox>();
  /** Attempts given to each sandbox and not finished (up to `perSandbox`). */
  readonly #load = new WeakMap<Sandbox, number>();
  readonly #capacity: number;
  readonly #waiters: ((s: Sandbox | Error) => void)[] = [];
  #source: string | undefined;
  #live = 0;
  #starting = 0;
  /** Sandboxes started for an attempt that has not taken them yet (to flag its cold start). */
  readonly #fresh = new WeakSet<Sandbox>();
  #closed = false;
  #abortReason: string | undefined;
  readonly #cold = {
    count: 0,
    total: 0,
    sandbox: 0,
    init: 0,
    last: undefined as number | undefined,
    miss: 0,
  };

  /** @param warm a sandbox that already loaded this bundle (the one that read its configuration). */
  constructor(options: PoolOptions, blanks: BlankPool, warm?: Sandbox) {
    this.#options = options;
    this.#blanks = blanks;
    this.#capacity = options.perSandbox ?? 1;
    if (warm) {
      warm.capacity = this.#capacity;
      this.#live++;
      this.#release(warm);
    }
    this.#keepMin();
  }

  state(): PoolState {
    const c = this.#cold;
    const mean = (v: number) => (c.count ? round(v / c.count) : undefined);
    return {
      kind: this.#options.kind,
      warm: this.#idle.length,
      busy: this.#busy.size,
      starting: this.#starting,
      min: this.#options.min,
      max: this.#options.max,
      coldStarts: {
        count: c.count,
        lastMs: c.last === undefined ? undefined : round(c.last),
        meanMs: mean(c.total),
        meanSandboxMs: mean(c.sandbox),
        meanInitMs: mean(c.init),
        withoutPrewarm: c.miss,
      },
    };
  }

  /** Runs one attempt in a sandbox of this pool (`steps`: a workflow execution's). Never rejects. */
  async invoke(req: InvokeRequest, timeoutMs: number, steps?: StepService): Promise<AttemptResult> {
    let sandbox: Sandbox;
    let coldStartMs: number | undefined;
    const t0 = performance.now();
    try {
      sandbox = await this.#acquire();
      // This attempt waited for its sandbox to start: a cold start, reported on its record.
      if (this.#fresh.delete(sandbox)) coldStartMs = performance.now() - t0;
    } catch (err) {
      return { ok: false, error: serializeError(err), logs: [], logsTruncated: false, durationMs: 0 };
    }
    try {
      const result = sandbox.invoke(req, timeoutMs, steps);
      // Shutdown began while this attempt was still getting its sandbox: it is aborted from the start.
      if (this.#abortReason !== undefined) sandbox.abort(this.#abortReason);
      const r = await result;
      return coldStartMs !== undefined ? { ...r, coldStartMs } : r;
    } finally {
      const left = (this.#load.get(sandbox) ?? 1) - 1;
      this.#load.set(sandbox, left);
      if (left === 0) {
        this.#busy.delete(sandbox);
        this.#release(sandbox);
      } else if (!sandbox.dead && !this.#closed) {
        // Room again in a sandbox that is still running others: the first waiter takes it.
        this.#waiters.shift()?.(this.#take(sandbox));
      }
    }
  }

  /**
   * Counts one more attempt on `sandbox`, busy from now on: an attempt asking for a sandbox before
   * this one's caller resumes sees its free slots rather than starting another.
   */
  #take(sandbox: Sandbox): Sandbox {
    this.#load.set(sandbox, (this.#load.get(sandbox) ?? 0) + 1);
    this.#busy.add(sandbox);
    return sandbox;
  }

  /** Gives the free slots of `sandbox` to the attempts waiting for one. */
  #fill(sandbox: Sandbox): void {
    while (this.#waiters.length > 0 && (this.#load.get(sandbox) ?? 0) < this.#capacity) {
      this.#waiters.shift()!(this.#take(sandbox));
    }
  }

  /** Aborts `ctx.signal` of every attempt in flight (the server is shutting down). */
  abortAll(reason: string): void {
    this.#abortReason = reason;
    for (const s of this.#busy) s.abort(reason);
  }

  /**
   * Stops idle sandboxes now and busy ones as their attempts end (their own timeouts bound that);
   * with `force`, the busy ones now too (their attempts fail with SandboxCrashedError).
   */
  async close(force = false): Promise<void> {
    this.#closed = true;
    if (force) await Promise.all([...this.#busy].map((s) => s.terminate()));
    const idle = this.#idle.splice(0);
    for (const w of this.#waiters.splice(0)) w(new SandboxCrashedError("the pool is closing"));
    await Promise.all(
      idle.map((i) => {
        clearTimeout(i.timer);
        this.#live--;
        return i.sandbox.terminate();
      }),
    );
  }

  async #acquire(): Promise<Sandbox> {
    if (this.#closed) throw new SandboxCrashedError("the pool is closed");
    // With perSandbox > 1, fill the sandboxes already running before waking another: fewer
    // sandboxes, fewer thread switches, and more messages per wake-up.
    if (this.#capacity > 1) {
      for (const s of this.#busy) {
        if (!s.dead && (this.#load.get(s) ?? 0) < this.#capacity) return this.#take(s);
      }
    }
    // Most recently used first (its caches are warm); one that died while idle (a timer threw after
    // its attempt returned) is dropped here rather than failing the attempt that would get it.
    for (let idle = this.#idle.pop(); idle; idle = this.#idle.pop()) {
      clearTimeout(idle.timer);
      if (!idle.sandbox.dead) return this.#take(idle.sandbox);
      this.#live--;
    }
    // A burst of attempts while a sandbox starts waits for its free slots rather than starting one
    // sandbox each; another starts only once those slots are spoken for.
    const spare = this.#starting * (this.#capacity - 1);
    if (this.#live < this.#options.max && this.#waiters.length >= spare) {
      return await this.#coldStart(true);
    }
    return new Promise<Sandbox>((resolve, reject) => {
      this.#waiters.push((s) => (s instanceof Error ? reject(s) : resolve(s)));
    });
  }

  /**
   * A new loaded sandbox; counts toward `live` from the start, so `max` holds while it loads.
   * `measured`: an attempt waits on it (a cold start, and it comes back taken for that attempt),
   * rather than keeping `min` warm.
   */
  async #coldStart(measured: boolean): Promise<Sandbox> {
    this.#live++;
    this.#starting++;
    const t0 = performance.now();
    let sandbox: Sandbox;
    let startMs: number;
    let prewarmed: boolean;
    let loadMs: number;
    try {
      ({ sandbox, startMs, prewarmed } = await this.#blanks.take(this.#options.kind, this.#options.memoryMb));
      const o = this.#options;
      const req: LoadRequest = o.kind === "process" ? { ...o.load, source: this.#bundleSource() } : o.load;
      ({ loadMs } = await sandbox.load(req, o.loadTimeoutMs, o.kv));
    } catch (err) {
      this.#live--;
      this.#starting--;
      // Attempts waiting for this sandbox's slots try again (and start their own, or fail the same way).
      for (const w of this.#waiters.splice(0)) void this.#acquire().then(w, w);
      throw err;
    }
    this.#starting--;
    sandbox.capacity = this.#capacity;
    if (!measured) return sandbox;
    this.#fresh.add(sandbox);
    const c = this.#cold;
    c.count++;
    c.last = performance.now() - t0;
    c.total += c.last;
    c.sandbox += startMs;
    c.init += loadMs;
    if (!prewarmed) c.miss++;
    // Taken for the attempt that started it, its other slots for the attempts that waited for it,
    // in this same turn: an attempt arriving next sees it busy, with no free slot or with some.
    this.#take(sandbox);
    this.#fill(sandbox);
    return sandbox;
  }

  #bundleSource(): string {
    return (this.#source ??= readFileSync(this.#options.load.bundlePath!, "utf8"));
  }

  #release(sandbox: Sandbox): void {
    if (sandbox.dead || this.#closed) {
      this.#live--;
      if (!sandbox.dead) void sandbox.terminate();
      // A waiter may now start a fresh sandbox in the freed slot.
      const waiter = this.#waiters.shift();
      if (waiter) void this.#acquire().then(waiter, waiter);
      else this.#keepMin();
      return;
    }
    if (this.#waiters.length > 0) return this.#fill(sandbox);
    const entry: Idle = { sandbox, timer: undefined };
    entry.timer = setTimeout(() => this.#reap(entry), this.#options.idleMs);
    entry.timer.unref();
    this.#idle.push(entry);
  }

  /** An idle sandbox timed out: stop it, unless the pool would drop below `min`. */
  #reap(entry: Idle): void {
    const i = this.#idle.indexOf(entry);
    if (i < 0) return;
    if (this.#live <= this.#options.min) {
      entry.timer = setTimeout(() => this.#reap(entry), this.#options.idleMs);
      entry.timer.unref();
      return;
    }
    this.#idle.splice(i, 1);
    this.#live--;
    void entry.sandbox.terminate();
  }

  /** Starts sandboxes in the background until `min` are live ("provisioned" concurrency). */
  #keepMin(): void {
    while (!this.#closed && this.#live < this.#options.min) {
      this.#coldStart(false).then(
        (s) => this.#release(s),
        (err: unknown) => this.#options.onError?.(err),
      );
    }
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
