import { join, resolve } from "node:path";
import { openEmbeddedBackend } from "./backends/embedded/index.js";
import type { Backend } from "./backends/types.js";
import { Deployer } from "./deploy/deployer.js";
import { Engine } from "./engine.js";
import type { EngineOptions } from "./engine.js";
import type { LoadFailure } from "./functions/loader.js";
import { loadFunctions } from "./functions/loader.js";
import { adminKeyAuthenticator } from "./http/auth.js";
import { createHttpServer } from "./http/server.js";
import type { Logger } from "./observability/logger.js";
import { createLogger } from "./observability/logger.js";

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
  /** Largest request body (a batch). Default 4 MiB. */
  maxBodyBytes?: number;
  /** Idle sandboxes stop after this long. Default 60 s. */
  sandboxIdleMs?: number;
  /** `ctx.env` of every function. */
  env?: Record<string, string>;
  /** "process": run every function in a process sandbox, whatever it declares (untrusted code). Default "thread". */
  isolation?: "thread" | "process";
  /** A function module that takes longer to load fails. Default 10 s. */
  loadTimeoutMs?: number;
  /** `region` of EventBridge-shaped events (`compat: "aws"`). Default "local". */
  region?: string;
  log?: Logger;
  /** A backend other than the embedded one (cluster mode). */
  backend?: Backend;
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
  /** Bearer key that allows deploys over HTTP (16+ characters). Without one, deploys are refused. */
  adminKey?: string;
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
  /** Stops intake, lets attempts in flight settle (up to `graceMs`, default 30 s), closes the store. */
  close(graceMs?: number): Promise<void>;
}

/** Defaults of {@link EddyOptions}. */
export const DEFAULTS = {
  port: 8080,
  host: "127.0.0.1",
  dedupWindowMs: 24 * 3_600_000,
  maxEventBytes: 256 * 1024,
  maxBodyBytes: 4 * 1024 * 1024,
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
  const auth = adminKeyAuthenticator(options.adminKey);
  const bundleDir = join(dataDir, "bundles");
  const backend =
    options.backend ??
    openEmbeddedBackend({ path: join(dataDir, "eddy.db"), durability: options.durability ?? "full" });
  const otlpEndpoint = options.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const engine = new Engine({
    backend,
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
    region: options.region,
    ingest: {
      dedupWindowMs: options.dedupWindowMs ?? DEFAULTS.dedupWindowMs,
      maxEventBytes: options.maxEventBytes ?? DEFAULTS.maxEventBytes,
    },
  });
  let http: ReturnType<typeof createHttpServer> | undefined;
  try {
    const deployer = new Deployer(engine, bundleDir);
    const loaded = await loadFunctions(dir, bundleDir, engine.inspectOptions());
    const failures = [...loaded.failures, ...(await deployer.start(loaded.functions)).failures];
    for (const f of failures) log.error({ file: f.file }, `function not loaded: ${f.message}`);
    let closing: Promise<void> | undefined;
    http = createHttpServer(engine, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULTS.maxBodyBytes,
      closing: () => closing !== undefined,
      pricing: engine.pricing,
      deployer,
      auth,
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
      close: (graceMs?: number) =>
        (closing ??= (async () => {
          engine.queues.stop();
          await server.close();
          await engine.close(graceMs);
        })()),
    };
  } catch (err) {
    await http?.close();
    await engine.close();
    throw err;
  }
}
