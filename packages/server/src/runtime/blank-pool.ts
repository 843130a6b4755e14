import type { BlankSandboxView } from "eddy";
import type { SandboxKind } from "./channel.js";
import { processHostPath } from "./host-bundle.js";
import type { ProcessHost } from "./process-channel.js";
import { startProcess } from "./process-channel.js";
import type { ProcessSandboxMode } from "./process-jail.js";
import { processBoundary } from "./process-jail.js";
import { Sandbox } from "./sandbox.js";
import { startThread } from "./thread-channel.js";

/** Options of the shared pool of blank sandboxes. */
export interface BlankPoolOptions {
  /** Where the process sandbox's host file is built (e.g. `<data>/runtime`). */
  runtimeDir: string;
  /** How process sandboxes are confined. Default "namespaced". */
  processSandbox?: ProcessSandboxMode;
  /** Most blank threads kept ready per heap size. Default 8. */
  maxThreads?: number;
  /** Most blank processes kept ready per heap size. Default 4. */
  maxProcesses?: number;
  /** A sandbox that is not up after this long is given up on. Default 30 s. */
  startTimeoutMs?: number;
  /** Told when starting a blank sandbox fails (the pool retries a second later). */
  onError?: (err: unknown) => void;
}

/** A sandbox handed out by {@link BlankPool.take}. */
export interface TakenSandbox {
  sandbox: Sandbox;
  /** How long the taker waited for it: ~0 when one was ready. */
  startMs: number;
  /** False when none was ready and this one was started on demand (a full cold start). */
  prewarmed: boolean;
}

/** The state of one kind and heap size: the API shows it as is. */
export type BlankPoolState = BlankSandboxView;

interface Entry {
  kind: SandboxKind;
  memoryMb: number;
  ready: Sandbox[];
  starting: number;
  inUse: boolean;
  /** Times of recent takes (last DEMAND_WINDOW_MS), to size the pool from demand. */
  takes: number[];
  taken: number;
  missed: number;
  retry: NodeJS.Timeout | undefined;
}

const DEMAND_WINDOW_MS = 30_000;
const TRIM_INTERVAL_MS = 10_000;

/**
 * Pre-started blank sandboxes shared by every function: a worker thread or process whose host is
 * loaded but no function yet. A cold start takes one and only imports the function's bundle, which
 * is what makes it milliseconds instead of the tens of milliseconds of starting a thread or a
 * process. The heap limit is fixed when a sandbox starts, so blanks are kept per kind and heap size.
 *
 * Sizing from demand: per kind and heap size that a deployed function uses, one blank is kept
 * ready, plus half of the most takes seen in any one second of the last 30 s (a burst of cold starts
 * tends to come again), up to `maxThreads` / `maxProcesses`. A taken blank is replaced in the
 * background, one start at a time per size; blanks above the target are stopped every 10 s.
 */
export class BlankPool {
  readonly #options: Required<Omit<BlankPoolOptions, "onError">> & Pick<BlankPoolOptions, "onError">;
  readonly #entries = new Map<string, Entry>();
  readonly #trimmer: NodeJS.Timeout;
  #closed = false;

  constructor(options: BlankPoolOptions) {
    this.#options = {
      maxThreads: 8,
      processSandbox: "namespaced",
      maxProcesses: 4,
      startTimeoutMs: 30_000,
      ...options,
    };
    this.#trimmer = setInterval(() => this.#trim(), TRIM_INTERVAL_MS);
    this.#trimmer.unref();
  }

  /**
   * A blank sandbox of this kind and heap size: a ready one, or one started now. `demand: false`
   * for takes that say nothing about future cold starts (reading configurations at a deploy).
   */
  async take(kind: SandboxKind, memoryMb: number, options: { demand?: boolean } = {}): Promise<TakenSandbox> {
    if (this.#closed) throw new Error("the sandbox pool is closed: take sandboxes before close(), not after");
    const e = this.#entry(kind, memoryMb);
    if (options.demand !== false) e.takes.push(Date.now());
    e.taken++;
    const t0 = performance.now();
    let sandbox: Sandbox | undefined;
    while ((sandbox = e.ready.shift()) && sandbox.dead);
    // Not now: starting a thread costs the main thread milliseconds, which would delay this cold
    // start; on the next turn it overlaps with the module loading in the taken sandbox instead.
    setImmediate(() => this.#refill(e));
    if (sandbox) return { sandbox, startMs: performance.now() - t0, prewarmed: true };
    e.missed++;
    sandbox = await this.#start(kind, memoryMb);
    return { sandbox, startMs: performance.now() - t0, prewarmed: false };
  }

  /** The kinds and heap sizes deployed functions use: one blank of each is kept ready. */
  setInUse(keys: { kind: SandboxKind; memoryMb: number }[]): void {
    const wanted = new Set(keys.map((k) => `${k.kind}:${k.memoryMb}`));
    for (const k of keys) this.#entry(k.kind, k.memoryMb);
    for (const [key, e] of this.#entries) {
      e.inUse = wanted.has(key);
      this.#refill(e);
    }
  }

  state(): BlankPoolState[] {
    return [...this.#entries.values()].map((e) => ({
      kind: e.kind,
      memoryMb: e.memoryMb,
      ready: e.ready.length,
      starting: e.starting,
      target: this.#target(e),
      taken: e.taken,
      missed: e.missed,
    }));
  }

  /** Stops every blank sandbox and starts no more. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#trimmer);
    const all: Sandbox[] = [];
    for (const e of this.#entries.values()) {
      clearTimeout(e.retry);
      all.push(...e.ready.splice(0));
    }
    await Promise.all(all.map((s) => s.terminate()));
  }

  /**
   * The host file of process sandboxes and the OS boundary they get here; rejects when they must be
   * confined and this host cannot (so the server can refuse to start rather than run them unconfined).
   */
  async processHost(): Promise<ProcessHost> {
    const path = await processHostPath(this.#options.runtimeDir);
    return { path, boundary: await processBoundary(path, this.#options.processSandbox) };
  }

  async #start(kind: SandboxKind, memoryMb: number): Promise<Sandbox> {
    const channel =
      kind === "thread" ? startThread(memoryMb) : startProcess(await this.processHost(), memoryMb);
    const sandbox = new Sandbox(channel, memoryMb);
    await sandbox.ready(this.#options.startTimeoutMs);
    return sandbox;
  }

  #entry(kind: SandboxKind, memoryMb: number): Entry {
    const key = `${kind}:${memoryMb}`;
    let e = this.#entries.get(key);
    if (!e) {
      e = {
        kind,
        memoryMb,
        ready: [],
        starting: 0,
        inUse: false,
        takes: [],
        taken: 0,
        missed: 0,
        retry: undefined,
      };
      this.#entries.set(key, e);
    }
    return e;
  }

  #target(e: Entry): number {
    const since = Date.now() - DEMAND_WINDOW_MS;
    while (e.takes.length > 0 && e.takes[0]! < since) e.takes.shift();
    let peak = 0;
    let run = 0;
    for (let i = 0, j = 0; i < e.takes.length; i++) {
      while (e.takes[i]! - e.takes[j]! >= 1_000) j++;
      run = i - j + 1;
      if (run > peak) peak = run;
    }
    const cap = e.kind === "thread" ? this.#options.maxThreads : this.#options.maxProcesses;
    return Math.min(cap, Math.max(e.inUse ? 1 : 0, Math.ceil(peak / 2)));
  }

  /** Starts one blank if the entry is below its target; chains until it is not. */
  #refill(e: Entry): void {
    if (this.#closed || e.starting > 0 || e.retry) return;
    if (e.ready.length >= this.#target(e)) return;
    e.starting++;
    this.#start(e.kind, e.memoryMb).then(
      (sandbox) => {
        e.starting--;
        if (this.#closed) return void sandbox.terminate();
        e.ready.push(sandbox);
        this.#refill(e);
      },
      (err: unknown) => {
        e.starting--;
        this.#options.onError?.(err);
        e.retry = setTimeout(() => {
          e.retry = undefined;
          this.#refill(e);
        }, 1_000);
        e.retry.unref();
      },
    );
  }

  #trim(): void {
    for (const e of this.#entries.values()) {
      const target = this.#target(e);
      e.ready = e.ready.filter((s) => !s.dead);
      while (e.ready.length > target) void e.ready.shift()!.terminate();
      this.#refill(e);
    }
  }
}
