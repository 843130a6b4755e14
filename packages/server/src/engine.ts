import type { Backend } from "./backends/types.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import type { DispatchTarget } from "./dispatch/function-dispatcher.js";
import type { IngestOptions } from "./events/ingest.js";
import { Ingestor } from "./events/ingest.js";
import type { LoadedFunction } from "./functions/loader.js";
import type { Logger } from "./observability/logger.js";
import { Router } from "./router/router.js";
import type { PoolState } from "./runtime/pool.js";
import { SandboxPool } from "./runtime/pool.js";

/** Options of the engine. */
export interface EngineOptions {
  backend: Backend;
  ingest: IngestOptions;
  log: Logger;
  /** `ctx.env` of every function. */
  env: Record<string, string>;
  /** Idle sandboxes stop after this long. */
  sandboxIdleMs: number;
}

/** A deployed function version with its sandbox pool. */
export interface DeployedFunction extends LoadedFunction {
  pool: SandboxPool;
}

/** What the API shows of a function. */
export interface FunctionView {
  name: string;
  file: string;
  version: string;
  config: LoadedFunction["config"];
  pool: PoolState;
  inFlight: number;
}

/**
 * The engine: ingest → router → dispatcher → runtime → outcome, on a backend's primitives. It never
 * imports a backend, the HTTP layer or the CLI; they are handed in or built on top of it.
 */
export class Engine {
  readonly backend: Backend;
  readonly router = new Router();
  readonly ingestor: Ingestor;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
  readonly #options: EngineOptions;
  #functions = new Map<string, DeployedFunction>();

  constructor(options: EngineOptions) {
    this.#options = options;
    this.backend = options.backend;
    this.log = options.log;
    this.ingestor = new Ingestor(options.backend.log, this.router, options.ingest, (fns) =>
      this.dispatcher.wake(fns),
    );
    this.dispatcher = new Dispatcher({
      queue: options.backend.queue,
      dedupWindowMs: options.ingest.dedupWindowMs,
      prepareEmits: (events) => this.ingestor.prepare(events),
      emitted: (entries, results) => this.ingestor.notify(entries, results),
      log: options.log,
    });
  }

  /**
   * Makes `loaded` the set of running functions, atomically: routing switches in one step, attempts
   * in flight finish on the version they started with, and replaced pools stop afterwards.
   */
  async deploy(loaded: LoadedFunction[]): Promise<void> {
    const previous = this.#functions;
    const next = new Map<string, DeployedFunction>();
    for (const fn of loaded) {
      const old = previous.get(fn.name);
      if (old && old.version === fn.version && sameConfig(old, fn)) {
        void fn.warm?.sandbox.terminate();
        next.set(fn.name, old);
        continue;
      }
      const pool = new SandboxPool(
        {
          spec: {
            bundlePath: fn.bundlePath,
            file: fn.file,
            memoryMb: fn.config.memoryMb,
            env: this.#options.env,
          },
          max: fn.config.concurrency.max,
          idleMs: this.#options.sandboxIdleMs,
        },
        fn.warm,
      );
      next.set(fn.name, { ...fn, warm: undefined, pool });
    }
    this.#functions = next;
    this.router.setFunctions([...next.values()].map((f) => ({ name: f.name, triggers: f.config.triggers })));
    await this.dispatcher.sync([...next.values()].map(target));
    const retired = [...previous.values()].filter((f) => next.get(f.name) !== f);
    await Promise.all(retired.map((f) => f.pool.close()));
  }

  /** The deployed functions, by name. */
  functions(): FunctionView[] {
    return [...this.#functions.values()].map((f) => this.describe(f));
  }

  /** One deployed function, or undefined. */
  function(name: string): FunctionView | undefined {
    const f = this.#functions.get(name);
    return f && this.describe(f);
  }

  describe(f: DeployedFunction): FunctionView {
    return {
      name: f.name,
      file: f.file,
      version: f.version,
      config: f.config,
      pool: f.pool.state(),
      inFlight: this.dispatcher.inFlight(f.name),
    };
  }

  /** Stops dispatching, lets attempts in flight settle, stops the sandboxes, closes the backend. */
  async close(): Promise<void> {
    await this.dispatcher.stop();
    await Promise.all([...this.#functions.values()].map((f) => f.pool.close()));
    await this.backend.close();
  }
}

function target(f: DeployedFunction): DispatchTarget {
  return {
    name: f.name,
    version: f.version,
    config: f.config,
    invoke: (req, timeoutMs) => f.pool.invoke(req, timeoutMs),
  };
}

function sameConfig(a: LoadedFunction, b: LoadedFunction): boolean {
  return JSON.stringify(a.config) === JSON.stringify(b.config);
}
