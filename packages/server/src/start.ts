import { join, resolve } from "node:path";
import { RESERVED_PATHS } from "eddy/internal";
import { openEmbeddedBackend } from "./backends/embedded/index.js";
import type { Backend } from "./backends/types.js";
import type { Clock } from "./clock/clock.js";
import { Deployer } from "./deploy/deployer.js";
import { Engine } from "./engine.js";
import { MAX_JSON_DEPTH } from "./events/nesting.js";
import type { EngineOptions } from "./engine.js";
import type { ProcessSandboxMode } from "./runtime/process-jail.js";
import type { BackpressureOptions } from "./events/backpressure.js";
import type { LoadFailure } from "./functions/loader.js";
import { loadFunctions } from "./functions/loader.js";
import { credentials } from "./auth/authenticator.js";
import type { JwtOptions } from "./auth/jwt.js";
import { jwtVerifier } from "./auth/jwt.js";
import { KeyStore } from "./auth/keys.js";
import { CallbackTargets } from "./gateway/callback-target.js";
import { Gateway } from "./gateway/gateway.js";
import { triggerKinds } from "./triggers/index.js";
import type { AuthMode } from "./http/auth.js";
import type { ConnectionLimits } from "./http/connections.js";
import { CONNECTION_LIMITS } from "./http/connections.js";
import { allowedHostSet } from "./http/host-check.js";
import { createHttpServer } from "./http/server.js";
import type { Logger } from "./observability/logger.js";
import { createLogger } from "./observability/logger.js";
import { StrictLoadError } from "./errors/start.js";

/** Options of a running Eddy server. Every one has a default. */
export interface EddyOptions {
  /** The app folder: functions under `functions/`, data under `.eddy/`. */
  dir: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `<dir>/.eddy`. */
  dataDir?: string;
  /** Embedded store durability, see EmbeddedOptions. Default "full". */
  durability?: "full" | "process";
  /** Default 24 h. */
  dedupWindowMs?: number;
  /** Default 256 KiB. */
  maxEventBytes?: number;
  /** Deepest nesting of objects and arrays in an event or queue message. Default 64. */
  maxEventDepth?: number;
  /**
   * When ingest refuses events instead of accepting more than it can keep or run: backlog limits
   * (per function and total) and the free disk kept under the data folder (embedded store). See
   * docs/delivery.md, "Backpressure".
   */
  backpressure?: Omit<BackpressureOptions, "diskPath">;
  /** Largest request body (a batch). Default 4 MiB. */
  maxBodyBytes?: number;
  /** Idle sandboxes stop after this long. Default 60 s. */
  sandboxIdleMs?: number;
  /** `ctx.env` of every function. */
  env?: Record<string, string>;
  /** "process": run every function in a process sandbox, whatever it declares (untrusted code). Default "thread". */
  isolation?: "thread" | "process";
  /**
   * How process sandboxes are confined: "namespaced" (default; own namespaces, empty root,
   * unprivileged uid — refused, and with `isolation: "process"` the server does not start, where the
   * host cannot) or "unconfined" (Node's permission model only). See docs/functions.md.
   */
  processSandbox?: ProcessSandboxMode;
  /** A function module that takes longer to load fails. Default 10 s. */
  loadTimeoutMs?: number;
  /** `region` of EventBridge-shaped events (`compat: "aws"`). Default "local". */
  region?: string;
  log?: Logger;
  /**
   * Refuse to start when a function file fails to bundle or load. Default false: the file is
   * skipped (logged, and reported by `/readyz`) and the others run.
   */
  strict?: boolean;
  /** A backend other than the embedded one (cluster mode). */
  backend?: Backend;
  /**
   * Where the server reads the time and waits: due times, leases, backoff, flow control,
   * schedules, the gateway's cache and rate limits, key expiry, the embedded store's expiry and
   * dedup windows. Default: the real clock. Tests give a `ManualClock` (`@eddy/server/testing`)
   * and advance it instead of sleeping. With `backend`, it must be the clock that backend was
   * opened with (the cluster backend runs on real time only).
   */
  clock?: Clock;
  /** Export spans over OTLP/HTTP to this endpoint (default: OTEL_EXPORTER_OTLP_ENDPOINT, if set). */
  otlpEndpoint?: string;
  /** Share of traces exported over OTLP, 0-1 (default: OTEL_TRACES_SAMPLER_ARG, else 1). */
  traceSampleRatio?: number;
  /** false: no metrics, spans or trace ids (to measure their cost). Default true. */
  instrumentation?: boolean;
  /** Price table and budgets for metering. */
  metering?: EngineOptions["metering"];
  /** How long invocation records and their logs are kept. */
  retention?: EngineOptions["retention"];
  /** Bearer key with every scope: deploys, keys, everything (16+ characters). Without one, deploys are refused. */
  adminKey?: string;
  /**
   * Who must present credentials. "routes" (default): private gateway routes; the `/v1` API is
   * open. "all": the API too (`eddy start`). "none": nothing (`eddy dev`). See docs/gateway.md.
   */
  auth?: AuthMode;
  /** Accept bearer JWTs verified this way (scopes from `scope` / `scp`). */
  jwt?: JwtOptions;
  /**
   * Host names the `/v1` API answers to besides localhost, 127.0.0.1, [::1] and `host`; a request
   * with another `Host`, or a browser's with another `Origin`, gets `403 EDDY_HOST_NOT_ALLOWED`
   * (DNS rebinding and cross-site requests). Checked when `auth` is "none" (`eddy dev`), or always
   * once given; `"any"` turns the check off.
   */
  allowedHosts?: string[] | "any";
  /**
   * Timeouts and the connection cap of the HTTP server: headers within 10 s, the whole request
   * (body included) within 30 s, else `408 EDDY_REQUEST_TIMEOUT` and the connection closed; idle
   * keep-alive connections closed after 72 s; at most 1,024 connections, holding at most 64 MiB of
   * request bodies together (`503 EDDY_SERVER_BUSY` past it). See docs/gateway.md.
   */
  connections?: Partial<ConnectionLimits>;
  /** The API gateway (function routes). */
  gateway?: {
    /** Mount routes under this prefix, e.g. "/api". Default "" (at the root, beside the reserved paths). */
    prefix?: string;
    /** Largest request body of a route without `maxBody`. Default 1 MiB. */
    maxBodyBytes?: number;
    /** Largest response body of a sync route (502 beyond). Default 6 MiB. */
    maxResponseBytes?: number;
    /** Believe X-Forwarded-For/-Proto/-Host. Default false. */
    trustProxy?: boolean;
    /** Record successful synchronous requests too (failed ones always are). Default false. */
    recordSync?: boolean;
    /** Response cache size of this node, bytes. Default 64 MiB. */
    cacheBytes?: number;
    /**
     * CIDR blocks (or addresses) async callbacks may reach although they are private, loopback or
     * link-local, e.g. `["10.1.0.0/16"]`. Default none: callbacks go to public addresses only.
     */
    callbackAllow?: string[];
  };
}

/** A started server. */
export interface RunningEddy {
  url: string;
  engine: Engine;
  /** Versions and deploys: `eddy dev` reloads through it. */
  deployer: Deployer;
  /** The app folder. */
  dir: string;
  /** Where bundles are stored. */
  bundleDir: string;
  /** Function files that failed to bundle or load; the others run. */
  failures: LoadFailure[];
  /** Functions that loaded with something that looks like a mistake (a pattern key no event has). */
  warnings: LoadFailure[];
  /** Stops intake, lets attempts in flight settle (up to `graceMs`, default 30 s), closes the store. */
  close(graceMs?: number): Promise<void>;
}

/** Defaults of {@link EddyOptions}. */
export const DEFAULTS = {
  port: 8080,
  host: "127.0.0.1",
  dedupWindowMs: 24 * 3_600_000,
  maxEventBytes: 256 * 1024,
  maxEventDepth: MAX_JSON_DEPTH,
  maxBodyBytes: 4 * 1024 * 1024,
  maxRouteBodyBytes: 1024 * 1024,
  maxResponseBytes: 6 * 1024 * 1024,
  sandboxIdleMs: 60_000,
  loadTimeoutMs: 10_000,
} as const;

/**
 * Starts Eddy on an app folder: opens the store, bundles and loads the functions, starts
 * dispatching (including work left from a previous run) and serves the HTTP API.
 *
 * @example
 * const eddy = await startEddy({ dir: "examples/shop", port: 0 });
 * console.log(eddy.url);
 * await eddy.close();
 */
export async function startEddy(options: EddyOptions): Promise<RunningEddy> {
  const dir = resolve(options.dir);
  const dataDir = resolve(options.dataDir ?? join(dir, ".eddy"));
  const log = options.log ?? createLogger();
  const prefix = checkPrefix(options.gateway?.prefix ?? "");
  const bundleDir = join(dataDir, "bundles");
  const backend =
    options.backend ??
    openEmbeddedBackend({
      path: join(dataDir, "eddy.db"),
      durability: options.durability ?? "full",
      ...(options.clock ? { clock: options.clock } : {}),
    });
  const otlpEndpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const callbackTargets = new CallbackTargets({ allow: options.gateway?.callbackAllow ?? [] });
  const engine = new Engine({
    backend,
    ...(options.clock ? { clock: options.clock } : {}),
    log,
    observability: {
      ...(otlpEndpoint ? { otlpEndpoint } : {}),
      sampleRatio: options.traceSampleRatio ?? Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? 1),
      ...(options.instrumentation === false ? { enabled: false } : {}),
    },
    ...(options.metering ? { metering: options.metering } : {}),
    ...(options.retention ? { retention: options.retention } : {}),
    env: options.env ?? {},
    sandboxIdleMs: options.sandboxIdleMs ?? DEFAULTS.sandboxIdleMs,
    isolation: options.isolation ?? "thread",
    loadTimeoutMs: options.loadTimeoutMs ?? DEFAULTS.loadTimeoutMs,
    runtimeDir: join(dataDir, "runtime"),
    ...(options.processSandbox ? { processSandbox: options.processSandbox } : {}),
    region: options.region,
    triggers: triggerKinds({ http: { routePrefix: prefix, callbackTargets } }),
    // The embedded store's disk is the data folder's; a cluster's is its servers' (their errors say so).
    backpressure: { ...options.backpressure, ...(options.backend ? {} : { diskPath: dataDir }) },
    ingest: {
      dedupWindowMs: options.dedupWindowMs ?? DEFAULTS.dedupWindowMs,
      maxEventBytes: options.maxEventBytes ?? DEFAULTS.maxEventBytes,
      maxEventDepth: options.maxEventDepth ?? DEFAULTS.maxEventDepth,
    },
  });
  let http: ReturnType<typeof createHttpServer> | undefined;
  let following: Deployer | undefined;
  try {
    const keys = new KeyStore(backend.kv, backend.capabilities.broadcast, engine.clock);
    const auth = credentials({
      ...(options.adminKey !== undefined ? { adminKey: options.adminKey } : {}),
      keys,
      ...(options.jwt ? { jwt: jwtVerifier(options.jwt) } : {}),
    });
    const authMode = options.auth ?? "routes";
    let closing: Promise<void> | undefined;
    const gateway = new Gateway(engine, {
      auth,
      mode: authMode,
      maxBodyBytes: options.gateway?.maxBodyBytes ?? DEFAULTS.maxRouteBodyBytes,
      maxAsyncBodyBytes: options.maxEventBytes ?? DEFAULTS.maxEventBytes,
      maxResponseBytes: options.gateway?.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      closing: () => closing !== undefined,
      trustProxy: options.gateway?.trustProxy ?? false,
      recordSync: options.gateway?.recordSync ?? false,
      ...(options.gateway?.cacheBytes !== undefined ? { cacheBytes: options.gateway.cacheBytes } : {}),
      callbackTargets,
      log,
    });
    // Untrusted code must not run unconfined because the host cannot confine it: refuse to start.
    if (options.isolation === "process") await engine.blanks.processHost();
    if (options.processSandbox === "unconfined")
      log.warn("process sandboxes are unconfined: Node's permission model only, no OS boundary");
    const deployer = new Deployer(engine, bundleDir);
    const loaded = await loadFunctions(dir, bundleDir, engine.inspectOptions());
    following = deployer;
    const started = await deployer.start(loaded.functions);
    const failures = [...loaded.failures, ...started.failures];
    for (const w of started.warnings) log.warn({ file: w.file }, w.message);
    for (const f of failures) {
      log.error({ file: f.file }, `function not loaded: ${f.message}`);
      engine.loadFailures.set(f.file, f.message);
    }
    if (options.strict && failures.length > 0) {
      throw new StrictLoadError(failures);
    }
    http = createHttpServer(engine, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      closing: () => closing !== undefined,
      pricing: engine.pricing,
      deployer,
      auth,
      authMode,
      keys,
      gateway,
      connections: { ...CONNECTION_LIMITS, ...options.connections },
      ...hostCheck(options, authMode),
    });
    const address = await http.listen({
      port: options.port ?? DEFAULTS.port,
      host: options.host ?? DEFAULTS.host,
    });
    const url = address.replace("[::1]", "127.0.0.1");
    const server = http;
    return {
      url,
      engine,
      deployer,
      dir,
      bundleDir,
      failures,
      warnings: started.warnings,
      close: (graceMs?: number) =>
        (closing ??= (async () => {
          engine.queues.stop();
          await deployer.close();
          await server.close();
          await engine.close(graceMs);
        })()),
    };
  } catch (err) {
    await following?.close();
    await http?.close();
    await engine.close();
    throw err;
  }
}

/** The hosts the API checks for, if it checks: without credentials by default, or when listed. */
function hostCheck(options: EddyOptions, authMode: AuthMode): { allowedHosts?: ReadonlySet<string> } {
  const listed = options.allowedHosts;
  if (listed === "any" || (listed === undefined && authMode !== "none")) return {};
  return { allowedHosts: allowedHostSet(listed ?? [], options.host ?? DEFAULTS.host) };
}

/** A route prefix is "" or "/segment[/segment…]", and may not hide Eddy's own paths. */
function checkPrefix(prefix: string): string {
  if (prefix === "" || prefix === "/") return "";
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) {
    throw new RangeError(`gateway.prefix must look like "/api", got ${JSON.stringify(prefix)}`);
  }
  const reserved = RESERVED_PATHS.find((r) => prefix === r || prefix.startsWith(`${r}/`));
  if (reserved) throw new RangeError(`gateway.prefix may not be under ${reserved}, Eddy's own API`);
  return prefix;
}
