import type { CloudEvent, EventPattern } from "eddy";
import type { AppendEntry, Backend } from "./backends/types.js";
import type { Clock, ClockTimer } from "./clock/clock.js";
import { realClock } from "./clock/clock.js";
import { DeliveryPlan } from "./dispatch/delivery-plan.js";
import { Dispatcher } from "./dispatch/dispatcher.js";
import { RateLimit, Throttle } from "./dispatch/flow-control.js";
import type { SettleHooks } from "./dispatch/attempt.js";
import type { DispatchTarget } from "./dispatch/function-dispatcher.js";
import type { Pin } from "./dispatch/pins.js";
import type { OpenedVersion } from "./dispatch/versions.js";
import { PinnedVersions } from "./dispatch/versions.js";
import type { IngestOptions } from "./events/ingest.js";
import type { BackpressureOptions } from "./events/backpressure.js";
import { Backpressure } from "./events/backpressure.js";
import { Ingestor } from "./events/ingest.js";
import { kvConfigCache } from "./functions/config-cache.js";
import type { InspectOptions } from "./functions/inspect.js";
import { effectiveIsolation } from "./functions/inspect.js";
import type { LoadedFunction, LoadFailure } from "./functions/loader.js";
import type { Logger } from "./observability/logger.js";
import type { ObserverOptions } from "./observability/observer.js";
import { Observer } from "./observability/observer.js";
import type { Budget, Pricing } from "./observability/usage.js";
import { BudgetWatcher, DEFAULT_PRICING } from "./observability/usage.js";
import { UsageMeter } from "./observability/usage-meter.js";
import { QueueService } from "./queues/queue-service.js";
import { Router } from "./router/router.js";
import { BlankPool } from "./runtime/blank-pool.js";
import type { ProcessSandboxMode } from "./runtime/process-jail.js";
import type { SandboxKind } from "./runtime/channel.js";
import { kvService } from "./runtime/kv-service.js";
import type { PoolState } from "./runtime/pool.js";
import { SandboxPool } from "./runtime/pool.js";
import type { InvokeRequest, QueueSend } from "./runtime/protocol.js";
import type { IndexedTrigger, Refusal, TriggerKind } from "./triggers/kind.js";
import { triggersOf } from "./triggers/kind.js";
import { Workflows } from "./workflows/workflows.js";

const DAY = 86_400_000;
/** Where the extension names seen on events are kept (see router/pattern-keys.ts). */
const EXTENSIONS_NS = "eddy:router";
const EXTENSIONS_KEY = "extensions";

/** Options of the engine. */
export interface EngineOptions {
  backend: Backend;
  ingest: IngestOptions;
  /** When ingest refuses events (backlog limits, free disk); defaults in BACKPRESSURE_DEFAULTS. */
  backpressure?: BackpressureOptions;
  log: Logger;
  /** `ctx.env` of every function. */
  env: Record<string, string>;
  /** Idle sandboxes stop after this long, unless a function sets `concurrency.idleTimeout`. */
  sandboxIdleMs: number;
  /** Span export and metrics. */
  observability?: ObserverOptions;
  /** Price table and budgets; defaults: AWS Lambda's public prices, no budget. */
  metering?: { pricing?: Pricing; budgets?: Budget[]; checkIntervalMs?: number };
  /** How long invocation records and their logs are kept. Default 30 days and 7 days. */
  retention?: { recordsMs?: number; logsMs?: number };
  /** The least isolation of every function: "process" when the code is not trusted. */
  isolation: SandboxKind;
  /** A module that takes longer to load fails. */
  loadTimeoutMs: number;
  /** Where the process sandbox's host file is built. */
  runtimeDir: string;
  /** How process sandboxes are confined. Default "namespaced". */
  processSandbox?: ProcessSandboxMode;
  /** `region` of EventBridge-shaped events for `compat: "aws"` functions. Default "local". */
  region?: string;
  /**
   * The trigger kinds the engine runs (`triggerKinds()` of `triggers/`): it loops over them at
   * deploy, routing, dispatch and shutdown, and knows none of them by name.
   */
  triggers: TriggerKind[];
  /**
   * Where the engine reads the time and waits (dispatch, schedules, queues, retention); it must
   * be the backend's own (`Backend.clock`). Default: the real clock.
   */
  clock?: Clock;
}

/** A deployed function version with its sandbox pool and delivery plan. */
export interface DeployedFunction extends LoadedFunction {
  pool: SandboxPool;
  plan: DeliveryPlan;
  target: DispatchTarget;
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
  /** Refuses what the store cannot keep or the functions cannot work off; `/readyz` shows it. */
  readonly backpressure: Backpressure;
  readonly dispatcher: Dispatcher;
  readonly queues: QueueService;
  readonly workflows: Workflows;
  readonly log: Logger;
  readonly observer: Observer;
  readonly pricing: Pricing;
  readonly budgets: BudgetWatcher;
  /** Usage of attempts that keep no record (see {@link UsageMeter}). */
  readonly meter: UsageMeter;
  /** The clock of every time-based decision; the backend's. */
  readonly clock: Clock;
  readonly #retention: ClockTimer;
  /**
   * Function files of the app that did not bundle or load, with why: the folder at start, then each
   * `eddy dev` reload (a file loaded again is removed). `/readyz` fails while there are any.
   */
  readonly loadFailures = new Map<string, string>();
  #extensionsLoaded: Promise<void> | undefined;
  /** Pre-started blank sandboxes shared by every function. */
  readonly blanks: BlankPool;
  readonly #options: EngineOptions;
  readonly #kinds: readonly TriggerKind[];
  #functions = new Map<string, DeployedFunction>();
  readonly #unwatch: (() => void) | undefined;
  /** Told after every deploy (the gateway drops cached responses of replaced functions). */
  readonly #deployListeners = new Set<(changed: string[]) => void>();
  /** Versions pinned deliveries finish on after a deploy replaced them (dispatch/versions.ts). */
  readonly versions: PinnedVersions;
  /** Finds a version by its pin (the deployer: its bundle on disk or in the shared store). */
  #findVersion: ((name: string, pin: Pin) => Promise<LoadedFunction | undefined>) | undefined;

  constructor(options: EngineOptions) {
    this.#options = options;
    this.clock = options.clock ?? realClock;
    const clock = this.clock;
    if (clock !== (options.backend.clock ?? realClock)) {
      throw new Error(
        `the ${options.backend.name} backend keeps another clock than the engine's: open it with the same clock (embedded: openEmbeddedBackend({ clock })), or leave clock unset${options.backend.clock ? "" : ` (the ${options.backend.name} backend runs on real time only)`}`,
      );
    }
    this.#kinds = options.triggers;
    this.backend = options.backend;
    this.log = options.log;
    this.blanks = new BlankPool({
      runtimeDir: options.runtimeDir,
      ...(options.processSandbox ? { processSandbox: options.processSandbox } : {}),
      onError: (err) => this.log.error({ err }, "could not start a blank sandbox; retrying"),
    });
    this.backpressure = new Backpressure(
      {
        queue: options.backend.queue,
        probe: () => options.backend.kv.set("eddy", "write-probe", Date.now()),
      },
      options.backpressure,
    );
    this.observer = new Observer(options.observability, {
      functions: () =>
        [...this.#functions.values()].map((f) => {
          const pool = f.pool.state();
          return {
            name: f.name,
            inFlight: this.dispatcher.inFlight(f.name),
            warm: pool.warm,
            busy: pool.busy,
          };
        }),
      deliveries: (fn) => options.backend.queue.counts(this.#functions.get(fn)?.plan.consumer ?? fn),
      refusing: () => this.backpressure.refusing(),
    });
    this.ingestor = new Ingestor(
      options.backend,
      this.router,
      options.ingest,
      (consumers) => {
        this.dispatcher.wake(consumers);
        this.queues.notify(consumers);
      },
      this.observer,
      this.backpressure,
    );
    this.queues = new QueueService(options.backend, (entries) => this.ingestor.appendEntries(entries), clock);
    this.workflows = new Workflows({
      journal: options.backend.journal,
      log: options.backend.log,
      records: options.backend.records,
      metrics: this.observer.enabled ? this.observer.metrics.workflows : undefined,
      span:
        this.observer.enabled && this.observer.spans.enabled
          ? (span) => this.observer.spans.record(span)
          : undefined,
      clock,
      logger: options.log,
      limits: options.ingest,
      publish: (events, traceparent) => this.publish(events, [], traceparent),
      append: (entries) => this.ingestor.appendEntries(entries),
      pollMs: options.backend.capabilities.wakeups ? 5_000 : undefined,
    });
    this.ingestor.afterAppend = (entries, results) => this.workflows.appended(entries, results);
    this.pricing = options.metering?.pricing ?? DEFAULT_PRICING;
    this.meter = new UsageMeter(options.backend.records, options.log);
    this.budgets = new BudgetWatcher({
      budgets: options.metering?.budgets ?? [],
      records: options.backend.records,
      pricing: this.pricing,
      intervalMs: options.metering?.checkIntervalMs ?? 60_000,
      log: options.log,
      publish: async (event) => {
        await this.ingestor.ingest([event]);
      },
    });
    const prune = () => {
      const now = clock.now();
      options.backend.records
        .prune({
          before: now - (options.retention?.recordsMs ?? 30 * DAY),
          logsBefore: now - (options.retention?.logsMs ?? 7 * DAY),
        })
        .catch((err: unknown) => options.log.warn({ err }, "retention: pruning records failed"));
    };
    this.#retention = clock.setInterval(prune, 3_600_000);
    setImmediate(prune);
    this.versions = new PinnedVersions({
      kv: options.backend.kv,
      open: (name, pin) => this.#openVersion(name, pin),
      idleMs: options.sandboxIdleMs,
      log: options.log,
    });
    this.dispatcher = new Dispatcher(
      {
        queue: options.backend.queue,
        versions: this.versions,
        kv: options.backend.kv,
        dedupWindowMs: options.ingest.dedupWindowMs,
        prepareEmits: (events, sends, traceparent) => this.#prepareEmits(events, sends, traceparent),
        emitted: (entries, results) => this.ingestor.appended(entries, results),
        log: options.log,
        observer: this.observer,
        clock,
      },
      (consumer, leased) => this.queues.enforceRedrive(consumer, leased),
    );
    // Cluster mode: deliveries appended on other nodes wake this node's dispatchers and queues too.
    this.#unwatch = options.backend.capabilities.wakeups?.onDeliveries((consumers) => {
      this.dispatcher.wake(consumers);
      this.queues.notify(consumers);
    });
    for (const kind of this.#kinds) {
      kind.start?.({
        backend: options.backend,
        log: options.log,
        clock,
        queues: this.queues,
        publish: async (event) => {
          const [r] = await this.ingestor.ingest([event]);
          if (r?.status === "rejected") throw new Error(r.refusal.detail);
        },
      });
    }
  }

  /**
   * Makes `loaded` the set of running functions, atomically: routing switches in one step, attempts
   * in flight finish on the version they started with, and replaced pools stop afterwards. The
   * whole new state (routes, plans, the pattern index) is built before anything is swapped: a
   * function refused on the way is left out and reported in `failures`, and a deploy that throws
   * has changed nothing.
   */
  async deploy(loaded: LoadedFunction[]): Promise<{ failures: LoadFailure[]; warnings: LoadFailure[] }> {
    const previous = this.#functions;
    const { kept, fresh, failures } = await this.#plan(loaded, previous);
    const warnings = await this.#patternWarnings(fresh.map((f) => f.fn));
    const survivors = [...kept, ...fresh.map((f) => f.fn)];
    let commits: (() => void)[];
    let switchRouter: () => void;
    try {
      // Functions refused on the way (a bad plan) must not keep routes either.
      commits = this.#compile(survivors).map((c) => c.commit);
      switchRouter = this.router.prepare([...kept.map((f) => f.plan), ...fresh.map((f) => f.plan)], (plan) =>
        this.#patterns(plan),
      );
    } catch (err) {
      for (const f of fresh) void f.fn.warm?.terminate();
      throw err;
    }
    const next = new Map<string, DeployedFunction>();
    for (const f of kept) next.set(f.name, f);
    for (const { fn, plan } of fresh) {
      const pool = this.#pool(fn);
      next.set(fn.name, {
        ...fn,
        warm: undefined,
        pool,
        plan,
        target: this.workflows.target(this.#target(fn, plan, pool), fn.config),
      });
    }
    this.#functions = next;
    this.workflows.sync([...next.values()]);
    for (const commit of commits) commit();
    switchRouter();
    this.blanks.setInUse(
      [...next.values()].map((f) => ({
        kind: effectiveIsolation(f.config, this.#options.isolation),
        memoryMb: f.config.memoryMb,
      })),
    );
    await this.dispatcher.sync([...next.values()].map((f) => f.target));
    for (const kind of this.#kinds) await kind.deployed?.([...next.values()]);
    const retired = [...previous.values()].filter((f) => next.get(f.name) !== f);
    for (const listener of this.#deployListeners) listener(retired.map((f) => f.name));
    await Promise.all(retired.map((f) => f.pool.close()));
    return { failures, warnings };
  }

  /**
   * Where a version comes from when a delivery is pinned to one the running set no longer has: the
   * deployer, which finds its bundle in the data folder or the backend's shared store (and its
   * configuration in the cache of what loading read). Without one, pinned deliveries run the
   * running version.
   */
  findVersionsWith(find: (name: string, pin: Pin) => Promise<LoadedFunction | undefined>): void {
    this.#findVersion = find;
  }

  /** A version that pinned deliveries run on: its own plan and a pool that keeps nothing warm. */
  async #openVersion(name: string, pin: Pin): Promise<OpenedVersion | undefined> {
    const running = this.#functions.get(name);
    const fn = await this.#findVersion?.(name, pin);
    if (!fn) return undefined;
    if (fn.name !== name || fn.version !== pin.version) {
      void fn.warm?.terminate();
      return undefined;
    }
    const plan = this.#deliveryPlan(fn);
    const pool = this.#pool(fn, 0);
    this.log.info(
      { fn: name, version: pin.version, running: running?.version },
      "running pinned deliveries on a replaced version",
    );
    return {
      target: this.workflows.target(this.#target(fn, plan, pool), fn.config),
      abortAll: (reason) => pool.abortAll(reason),
      close: (force) => pool.close(force),
    };
  }

  /**
   * Event patterns of `functions` with top-level keys that no event is known to carry (see
   * router/pattern-keys.ts), against the extensions seen on this app's events, kept in the store
   * so that a restart still knows them.
   */
  async #patternWarnings(functions: LoadedFunction[]): Promise<LoadFailure[]> {
    const names = this.router.extensions;
    this.#extensionsLoaded ??= (async () => {
      try {
        names.add((await this.backend.kv.get(EXTENSIONS_NS, EXTENSIONS_KEY))?.value);
      } catch (err) {
        this.log.debug({ err }, "could not read the extensions seen before");
      }
      names.onNew = () => {
        this.backend.kv
          .set(EXTENSIONS_NS, EXTENSIONS_KEY, names.extensions())
          .catch((err: unknown) => this.log.debug({ err }, "could not store the extensions seen"));
      };
    })();
    await this.#extensionsLoaded;
    return functions.flatMap((fn) =>
      triggersOf(this.#kinds, fn).flatMap(([kind, triggers]) =>
        (kind.warnings?.(fn, triggers, names) ?? []).map((message) => ({
          file: fn.file,
          message: `function ${fn.name}: ${message}`,
        })),
      ),
    );
  }

  /** The patterns a plan's trigger kinds route to its function. */
  #patterns(plan: DeliveryPlan): { id: string; pattern: EventPattern }[] {
    return triggersOf(this.#kinds, plan).flatMap(([kind, triggers]) =>
      kind.patterns ? kind.patterns(plan.fn, triggers) : [],
    );
  }

  /** The tables of the kinds that build one over the whole set (routes), running functions first. */
  #compile(functions: LoadedFunction[]): { refused: Refusal[]; commit(): void }[] {
    const running = new Set(this.#functions.keys());
    return this.#kinds.flatMap((kind) => (kind.compile ? [kind.compile(functions, running)] : []));
  }

  /**
   * The delivery plan of `fn`, with the consumer its trigger kinds declare; throws naming the
   * option a kind or the plan refuses, or a trigger kind this server does not run.
   */
  #deliveryPlan(fn: LoadedFunction): DeliveryPlan {
    const kinds = triggersOf(this.#kinds, fn);
    const known = kinds.reduce((n, [, triggers]) => n + triggers.length, 0);
    if (known !== fn.config.triggers.length) {
      const unknown = fn.config.triggers.find((t) => !this.#kinds.some((k) => k.kind === t.kind));
      throw new Error(
        `this server does not run triggers of kind ${JSON.stringify(unknown?.kind)}; upgrade it`,
      );
    }
    let consumer: { name: string; ordered?: boolean } | undefined;
    for (const [kind, triggers] of kinds) consumer = kind.consumer?.(fn, triggers) ?? consumer;
    return new DeliveryPlan(fn.name, fn.config, consumer);
  }

  /** Runs every kind's `check` of `fn`'s triggers (throws the first refusal). */
  #check(fn: LoadedFunction, each?: (kind: TriggerKind, triggers: IndexedTrigger[]) => void): void {
    for (const [kind, triggers] of triggersOf(this.#kinds, fn)) {
      kind.check?.(fn, triggers);
      each?.(kind, triggers);
    }
  }

  /**
   * What a deploy of `loaded` keeps running as it is (same version and configuration), what it
   * starts (with its delivery plan), and what it refuses: a route conflict, or a trigger or
   * flow-control option the engine cannot use. Refused functions' warm sandboxes are stopped.
   */
  async #plan(loaded: LoadedFunction[], previous: Map<string, DeployedFunction>) {
    const kept: DeployedFunction[] = [];
    const fresh: { fn: LoadedFunction; plan: DeliveryPlan }[] = [];
    const failures: LoadFailure[] = [];
    const refuse = (fn: LoadedFunction, message: string) => {
      void fn.warm?.terminate();
      failures.push({ file: fn.file, message });
    };
    const refused = this.#compile(loaded).flatMap((c) => c.refused);
    for (const r of refused) refuse(r.fn, r.message);
    const refusedNames = new Set(refused.map((r) => r.fn.name));
    for (const fn of loaded) {
      if (refusedNames.has(fn.name)) continue;
      const old = previous.get(fn.name);
      if (old && old.version === fn.version && sameConfig(old, fn)) {
        void fn.warm?.terminate();
        kept.push(old);
        continue;
      }
      try {
        const plan = this.#deliveryPlan(fn);
        this.#check(fn);
        for (const [kind, triggers] of triggersOf(this.#kinds, fn)) await kind.prepare?.(fn, triggers);
        fresh.push({ fn, plan });
      } catch (err) {
        refuse(fn, `function ${fn.name}: ${(err as Error).message}`);
      }
    }
    return { kept, fresh, failures };
  }

  /** The trigger kind of this name the engine runs (the gateway asks for the HTTP kind's routes). */
  kind(name: string): TriggerKind | undefined {
    return this.#kinds.find((k) => k.kind === name);
  }

  /** A running function with its pool and plan (the gateway invokes it directly). */
  deployedFunction(name: string): DeployedFunction | undefined {
    return this.#functions.get(name);
  }

  /** Calls `listener` with the names of the functions replaced or removed by each deploy. */
  onDeploy(listener: (changed: string[]) => void): () => void {
    this.#deployListeners.add(listener);
    return () => this.#deployListeners.delete(listener);
  }

  /**
   * Publishes what a synchronous attempt emitted and sent (a gateway request that succeeded):
   * validated, routed and durable before this resolves. Throws on an invalid event.
   */
  async publish(events: CloudEvent[], sends: QueueSend[], traceparent?: string): Promise<void> {
    if (events.length === 0 && sends.length === 0) return;
    await this.ingestor.appendEntries(await this.#prepareEmits(events, sends, traceparent));
  }

  /** Log entries for what an attempt emitted and sent; `traceparent`, the attempt's span, is their parent. */
  async #prepareEmits(
    events: CloudEvent[],
    sends: QueueSend[],
    traceparent?: string,
  ): Promise<AppendEntry[]> {
    const messages = this.ingestor.traced(await this.queues.prepareSends(sends), traceparent);
    return [...this.ingestor.prepare(events, traceparent), ...messages];
  }

  /**
   * What {@link deploy} would refuse of `loaded` (a trigger or flow-control option the engine
   * cannot use), without deploying anything: an all-or-nothing deploy checks first.
   */
  check(loaded: LoadedFunction[]): LoadFailure[] {
    const failures: LoadFailure[] = [];
    for (const r of this.#compile(loaded).flatMap((c) => c.refused)) {
      failures.push({ file: r.fn.file, message: r.message });
    }
    for (const fn of loaded) {
      try {
        this.#deliveryPlan(fn);
        this.#check(fn);
      } catch (err) {
        failures.push({ file: fn.file, message: `function ${fn.name}: ${(err as Error).message}` });
      }
    }
    return failures;
  }

  /** What reading a module's configuration in a sandbox needs (see the loader). */
  inspectOptions(): InspectOptions {
    const o = this.#options;
    return {
      blanks: this.blanks,
      isolation: o.isolation,
      env: o.env,
      region: o.region,
      loadTimeoutMs: o.loadTimeoutMs,
      cache: kvConfigCache(this.backend.kv),
    };
  }

  /** What the dispatcher runs `fn`'s deliveries with; its trigger kinds may shape the request and the settle. */
  #target(f: LoadedFunction, plan: DeliveryPlan, pool: SandboxPool): DispatchTarget {
    const shapes: ((req: InvokeRequest) => InvokeRequest)[] = [];
    let hooks: SettleHooks | undefined;
    for (const [kind] of triggersOf(this.#kinds, f)) {
      const d = kind.dispatch?.(f);
      if (d?.invoke) shapes.push(d.invoke);
      if (d?.hooks) {
        if (hooks) throw new Error(`function ${f.name}: two trigger kinds add to its settle`);
        hooks = d.hooks;
      }
    }
    const t: DispatchTarget = {
      name: f.name,
      version: f.version,
      file: f.file,
      plan,
      invoke:
        shapes.length === 0
          ? (req, timeoutMs) => pool.invoke(req, timeoutMs)
          : (req, timeoutMs) =>
              pool.invoke(
                shapes.reduce((r, shape) => shape(r), req),
                timeoutMs,
              ),
    };
    if (hooks) t.hooks = hooks;
    const { throttle, rateLimit } = f.config;
    if (throttle) t.throttle = new Throttle(throttle.limit, throttle.periodMs, throttle.burst);
    if (rateLimit) t.rateLimit = new RateLimit(rateLimit.limit, rateLimit.periodMs);
    return t;
  }

  /** @param min sandboxes kept warm; default the function's `concurrency.min`. */
  #pool(fn: LoadedFunction, min = fn.config.concurrency.min): SandboxPool {
    const o = this.#options;
    const c = fn.config;
    return new SandboxPool(
      {
        kind: effectiveIsolation(c, o.isolation),
        load: { file: fn.file, bundlePath: fn.bundlePath, env: o.env, region: o.region },
        memoryMb: c.memoryMb,
        max: c.concurrency.max,
        min,
        perSandbox: c.concurrency.perSandbox ?? 1,
        idleMs: c.concurrency.idleTimeoutMs ?? o.sandboxIdleMs,
        loadTimeoutMs: o.loadTimeoutMs,
        kv: kvService(this.backend.kv, fn.name),
        onError: (err) =>
          this.log.warn({ err, fn: fn.name }, "could not keep concurrency.min sandboxes warm"),
      },
      this.blanks,
      fn.warm,
    );
  }

  /** The running set as the loader made it: what a partial deploy starts from. */
  deployed(): LoadedFunction[] {
    return [...this.#functions.values()].map(({ name, file, version, bundlePath, config }) => ({
      name,
      file,
      version,
      bundlePath,
      config,
    }));
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

  /**
   * Stops the scheduler and dispatching, gives back leased-ahead work, aborts `ctx.signal` of the
   * attempts in flight, and waits up to `graceMs` for them to settle. Past the grace period their
   * sandboxes are terminated without settling: their leases are released by the next start
   * (embedded) or expire (cluster), so the attempts run again — nothing is lost, nothing is counted
   * as a failure.
   */
  async close(graceMs = 30_000): Promise<void> {
    this.budgets.stop();
    this.clock.clearInterval(this.#retention);
    this.#unwatch?.();
    for (const kind of this.#kinds) await kind.stop?.();
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), graceMs)));
    const stopping = Promise.all([this.dispatcher.stop(), this.workflows.close()]).then(
      () => "done" as const,
    );
    for (const f of this.#functions.values()) f.pool.abortAll("the server is shutting down");
    this.versions.abortAll("the server is shutting down");
    const finished = await Promise.race([stopping, graceOver]);
    clearTimeout(timer);
    if (finished === "timeout") {
      this.log.warn({ graceMs }, "grace period over: stopping attempts in flight; they will run again");
    }
    await Promise.all([...this.#functions.values()].map((f) => f.pool.close(finished === "timeout")));
    await this.versions.close(finished === "timeout");
    await this.blanks.close();
    await this.observer.close().catch((err: unknown) => this.log.warn({ err }, "span export did not flush"));
    await this.meter.close();
    await this.backend.close();
  }
}

function sameConfig(a: LoadedFunction, b: LoadedFunction): boolean {
  return JSON.stringify(a.config) === JSON.stringify(b.config);
}
