import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseEnv } from "node:util";
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import type { JwtOptions, ProcessSandboxMode, ReloadReport, RunningEddy } from "@eddy/server";
import { createLogger, DEFAULTS, startEddy, watchFunctions } from "@eddy/server";
import { parseDuration } from "eddy/internal";
import type { BackendChoice } from "../backend.js";
import { openBackend } from "../backend.js";
import { integer } from "../options.js";
import { printInvocations } from "./dev-output.js";
import { InvalidConfigError, PortInUseError, UsageError } from "../errors.js";

interface RunOptions extends BackendChoice {
  port: number;
  host: string;
  dataDir?: string;
  grace: string;
  otlpEndpoint?: string;
  traceSample?: number;
  adminKey?: string;
  isolation: "thread" | "process";
  processSandbox: ProcessSandboxMode;
  envFile?: string;
  /** false with --no-auth. */
  auth: boolean;
  jwtSecret?: string;
  jwtPublicKey?: string;
  jwtJwksUrl?: string;
  jwtIssuer?: string;
  jwtAudience?: string;
  routePrefix?: string;
  trustProxy?: boolean;
  recordRequests?: boolean;
  strict?: boolean;
  callbackAllow?: string[];
  allowedHost?: string[];
  maxBacklog?: number;
  maxBacklogPerFunction?: number;
  minFreeDisk?: number;
}

/** The file in an app folder that may hold the same settings as the options (flags and env win). */
export const CONFIG_FILE = "eddy.config.json";
const CONFIG_KEYS = [
  "port",
  "host",
  "dataDir",
  "backend",
  "nats",
  "postgres",
  "clusterPrefix",
  "otlpEndpoint",
  "traceSample",
  "isolation",
  // Not processSandbox: the app folder may be the untrusted authors', and must not unconfine itself.
  "envFile",
  "jwtJwksUrl",
  "jwtIssuer",
  "jwtAudience",
  "routePrefix",
  "trustProxy",
  "callbackAllow",
  "allowedHost",
  "maxBacklog",
  "maxBacklogPerFunction",
  "minFreeDisk",
] as const;

const INTEGER_KEYS = new Set(["port", "maxBacklog", "maxBacklogPerFunction", "minFreeDisk"]);

/** `eddy dev [dir]` and `eddy start [dir]`. */
export function registerRunCommands(program: Command): void {
  for (const mode of ["dev", "start"] as const) {
    program
      .command(`${mode} [dir]`)
      .description(
        mode === "dev"
          ? "run the app in a folder for development: readable logs, reload on change"
          : "run the app in a folder in production (JSON logs)",
      )
      .addOption(
        new Option("-p, --port <port>", "HTTP port (0: any free port)")
          .argParser(integer("--port"))
          .env("EDDY_PORT")
          .default(DEFAULTS.port),
      )
      .addOption(new Option("--host <host>", "address to listen on").env("EDDY_HOST").default(DEFAULTS.host))
      .option("--data-dir <path>", "where the embedded store and the bundles live (default <dir>/.eddy)")
      .option("--grace <duration>", "on SIGTERM, how long attempts in flight may take to finish", "30s")
      .addOption(
        new Option("--otlp-endpoint <url>", "export spans over OTLP/HTTP").env("OTEL_EXPORTER_OTLP_ENDPOINT"),
      )
      .addOption(
        new Option("--trace-sample <ratio>", "share of traces exported over OTLP, 0 to 1 (default 1)")
          .argParser(ratio)
          .env("OTEL_TRACES_SAMPLER_ARG"),
      )
      .addOption(
        new Option("--backend <kind>", "where events and state live")
          .choices(["embedded", "cluster"])
          .env("EDDY_BACKEND")
          .default("embedded"),
      )
      .addOption(new Option("--nats <url>", "cluster: NATS server with JetStream").env("EDDY_NATS_URL"))
      .addOption(
        new Option("--postgres <url>", "cluster: PostgreSQL connection URL").env("EDDY_POSTGRES_URL"),
      )
      .addOption(
        new Option(
          "--cluster-prefix <name>",
          "cluster: names its streams, subjects and schema (default eddy)",
        ).env("EDDY_CLUSTER_PREFIX"),
      )
      .addOption(
        new Option("--admin-key <key>", "allow deploys over HTTP with this key, 16+ characters").env(
          "EDDY_ADMIN_KEY",
        ),
      )
      .addOption(
        new Option(
          "--isolation <kind>",
          'least isolation of every function: "thread", or "process" for untrusted code',
        )
          .argParser(isolation)
          .env("EDDY_ISOLATION")
          .default("thread"),
      )
      .addOption(
        new Option(
          "--process-sandbox <mode>",
          'how process sandboxes are confined: "namespaced" (own namespaces, no network, unprivileged uid; refused where the host cannot) or "unconfined" (Node\'s permission model only)',
        )
          .choices(["namespaced", "unconfined"])
          .env("EDDY_PROCESS_SANDBOX")
          .default("namespaced"),
      )
      .option("--env-file <path>", "ctx.env of every function, from a KEY=value file (kept out of logs)")
      .option(
        "--no-auth",
        mode === "dev"
          ? "(dev never asks for credentials)"
          : "DANGER: take requests without credentials, as eddy dev does (API and private routes open)",
      )
      .addOption(
        new Option("--jwt-secret <secret>", "accept HS256/384/512 JWTs signed with this secret").env(
          "EDDY_JWT_SECRET",
        ),
      )
      .addOption(
        new Option("--jwt-public-key <file>", "accept RS/PS/ES/EdDSA JWTs verified with this PEM public key"),
      )
      .addOption(
        new Option("--jwt-jwks-url <url>", "accept JWTs verified with the keys of this JWKS endpoint").env(
          "EDDY_JWT_JWKS_URL",
        ),
      )
      .addOption(new Option("--jwt-issuer <iss>", "required iss of JWTs").env("EDDY_JWT_ISSUER"))
      .addOption(new Option("--jwt-audience <aud>", "required aud of JWTs").env("EDDY_JWT_AUDIENCE"))
      .addOption(
        new Option("--route-prefix <path>", 'serve function routes under this prefix, e.g. "/api"').env(
          "EDDY_ROUTE_PREFIX",
        ),
      )
      .option("--trust-proxy", "believe X-Forwarded-For/-Proto/-Host (behind a reverse proxy)")
      .option("--strict", "refuse to start if a function file fails to bundle or load (default: skip it)")
      .option(
        "--record-requests",
        "store a record of every successful sync route request (failed ones always are)",
      )
      .addOption(
        new Option(
          "--callback-allow <blocks>",
          "private CIDR blocks or addresses async callbacks may reach, comma-separated (default: public only)",
        )
          .argParser(list)
          .env("EDDY_CALLBACK_ALLOW"),
      )
      .addOption(
        new Option(
          "--allowed-host <names>",
          "without auth (dev): host names the /v1 API answers to besides localhost, comma-separated",
        )
          .argParser(list)
          .env("EDDY_ALLOWED_HOSTS"),
      )
      // Backpressure (docs/delivery.md): past these, POST /v1/events answers 429/503 with Retry-After.
      .addOption(
        new Option(
          "--max-backlog <n>",
          "refuse events once this many deliveries wait or run (0: no limit; default 1000000)",
        )
          .argParser(integer("--max-backlog"))
          .env("EDDY_MAX_BACKLOG"),
      )
      .addOption(
        new Option(
          "--max-backlog-per-function <n>",
          "refuse events for a function with this many deliveries waiting or running (0: no limit; default 100000)",
        )
          .argParser(integer("--max-backlog-per-function"))
          .env("EDDY_MAX_BACKLOG_PER_FUNCTION"),
      )
      .addOption(
        new Option(
          "--min-free-disk <MiB>",
          "embedded: refuse events while the data folder's disk has less free (0: off; default 64)",
        )
          .argParser(integer("--min-free-disk"))
          .env("EDDY_MIN_FREE_DISK_MB"),
      )
      .action(async (dir: string | undefined, opts: RunOptions, cmd: Command) => {
        checkAppFolder(dir ?? ".");
        applyConfigFile(dir ?? ".", cmd);
        await run(mode, dir ?? ".", cmd.opts<RunOptions>());
      });
  }
}

/** The app folder must exist: a typo in its name must not start an empty app in a new folder. */
function checkAppFolder(dir: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new UsageError(
      `no folder ${resolve(dir)}: give the app's folder (its functions live in FOLDER/functions/), e.g. eddy dev examples/shop`,
    );
  }
}

/**
 * Reads `<dir>/eddy.config.json`, if any, into the options that neither a flag nor an environment
 * variable set. Unknown keys are refused, so that a typo does not pass silently.
 */
function applyConfigFile(dir: string, cmd: Command): void {
  const path = join(resolve(dir), CONFIG_FILE);
  if (!existsSync(path)) return;
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  } catch (err) {
    throw new InvalidConfigError(`${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  for (const [key, value] of Object.entries(config)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      throw new InvalidConfigError(`${path}: unknown setting "${key}" (known: ${CONFIG_KEYS.join(", ")})`);
    }
    const source = cmd.getOptionValueSource(key);
    if (source === "cli" || source === "env") continue;
    if (key === "backend" && value !== "embedded" && value !== "cluster") {
      throw new InvalidConfigError(
        `${path}: backend must be "embedded" or "cluster", got ${JSON.stringify(value)}`,
      );
    }
    if (INTEGER_KEYS.has(key) && !(Number.isInteger(value) && (value as number) >= 0)) {
      throw new InvalidConfigError(`${path}: ${key} must be an integer >= 0, got ${JSON.stringify(value)}`);
    }
    cmd.setOptionValueWithSource(key, value, "config");
  }
}

function ratio(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n <= 1))
    throw new InvalidArgumentError(`--trace-sample must be a number from 0 to 1, got ${value}`);
  return n;
}

function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

function isolation(value: string): "thread" | "process" {
  if (value !== "thread" && value !== "process") {
    throw new InvalidArgumentError(`--isolation must be "thread" or "process", got ${JSON.stringify(value)}`);
  }
  return value;
}

async function run(mode: "dev" | "start", dir: string, opts: RunOptions) {
  const graceMs = parseDuration(opts.grace, "--grace");
  const log = createLogger({ level: process.env.EDDY_LOG_LEVEL ?? (mode === "dev" ? "warn" : "info") });
  // SIGUSR1 would open Node's inspector on loopback: whoever can signal this process could then run
  // code as its user. A listener keeps Node from doing so; debug with `node --inspect` instead.
  process.on("SIGUSR1", () => log.warn("SIGUSR1 ignored: the inspector opens only with --inspect"));
  const backend = await openBackend(opts, log);
  const env = opts.envFile === undefined ? {} : readEnvFile(opts.envFile);
  // Production asks for credentials everywhere; dev (or --no-auth) nowhere, and says so loudly.
  const auth = mode === "start" && opts.auth ? "all" : "none";
  if (auth === "none") {
    process.stderr.write(
      `eddy ${mode}: ⚠ no authentication: anyone who can reach ${opts.host}:${opts.port} may publish, call private routes and use the /v1 API (deploys and keys still need the admin key)${mode === "start" ? " (--no-auth)" : ""}
`,
    );
  }
  const jwt = jwtOptions(opts);
  const eddy = await startEddy({
    dir,
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    log,
    backend,
    ...(opts.otlpEndpoint ? { otlpEndpoint: opts.otlpEndpoint } : {}),
    ...(opts.traceSample !== undefined ? { traceSampleRatio: opts.traceSample } : {}),
    // An empty EDDY_ADMIN_KEY means none, as an unset one does.
    adminKey: opts.adminKey || undefined,
    isolation: opts.isolation,
    processSandbox: opts.processSandbox,
    ...(opts.strict ? { strict: true } : {}),
    env,
    auth,
    ...(opts.allowedHost ? { allowedHosts: opts.allowedHost } : {}),
    ...(jwt ? { jwt } : {}),
    backpressure: {
      ...(opts.maxBacklog !== undefined ? { maxBacklog: opts.maxBacklog } : {}),
      ...(opts.maxBacklogPerFunction !== undefined
        ? { maxBacklogPerFunction: opts.maxBacklogPerFunction }
        : {}),
      ...(opts.minFreeDisk !== undefined ? { minFreeDiskBytes: opts.minFreeDisk * 1024 * 1024 } : {}),
    },
    gateway: {
      ...(opts.routePrefix ? { prefix: opts.routePrefix } : {}),
      ...(opts.trustProxy ? { trustProxy: true } : {}),
      ...(opts.recordRequests ? { recordSync: true } : {}),
      ...(opts.callbackAllow ? { callbackAllow: opts.callbackAllow } : {}),
    },
  }).catch((err: unknown) => {
    throw portInUse(err, opts) ?? err;
  });
  if (
    auth === "all" &&
    !opts.adminKey &&
    !jwt &&
    (await eddy.engine.backend.kv.get("eddy:auth", "api-keys")) === undefined
  ) {
    log.warn(
      "no admin key, API key or JWT settings: every /v1 request and private route will be refused; start with --admin-key to manage keys",
    );
  }
  const names = eddy.engine.functions().map((f) => f.name);
  let watcher: { close(): void } | undefined;
  if (mode === "dev") {
    process.stdout.write(`eddy dev: ${names.length} function(s) loaded: ${names.join(", ") || "(none)"}\n`);
    for (const f of eddy.failures) process.stdout.write(`  ✗ ${f.file}: ${f.message}\n`);
    for (const w of eddy.warnings) process.stdout.write(`  ⚠ ${w.file}: ${w.message}\n`);
    watcher = watch(eddy);
    const unfollow = printInvocations(eddy.engine, (line) => process.stdout.write(line));
    const stopWatching = watcher;
    watcher = { close: () => (unfollow(), stopWatching.close()) };
    process.stdout.write(`eddy dev: ready on ${eddy.url} (${eddy.engine.backend.name} backend)\n`);
  } else {
    log.info(
      { url: eddy.url, functions: names, backend: eddy.engine.backend.name, deploys: Boolean(opts.adminKey) },
      "ready",
    );
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "shutting down: finishing attempts in flight");
      watcher?.close();
      eddy.close(graceMs).then(resolve, (err: unknown) => {
        log.error({ err }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}

/** Reloads changed functions and says what happened, one line per function. */
function watch(eddy: RunningEddy): { close(): void } {
  return watchFunctions({
    dir: eddy.dir,
    bundleDir: eddy.bundleDir,
    engine: eddy.engine,
    deployer: eddy.deployer,
    onReload: (r: ReloadReport) => {
      const ms = Math.round(r.ms);
      for (const c of r.changes) process.stdout.write(`  ↻ ${c.name} ${c.change} in ${ms} ms\n`);
      for (const w of r.warnings) process.stdout.write(`  ⚠ ${w.file}: ${w.message}\n`);
      for (const f of r.failures) {
        process.stdout.write(`  ✗ ${f.file}: ${f.message}\n    (the previous version keeps running)\n`);
      }
    },
    onError: (err) => process.stdout.write(`  ✗ reload failed: ${(err as Error).message}\n`),
  });
}

/** The error to show when the port is taken: which one, and how to choose another. */
function portInUse(err: unknown, opts: RunOptions): Error | undefined {
  if ((err as { code?: string }).code !== "EADDRINUSE") return undefined;
  return new PortInUseError(
    `port ${opts.port} on ${opts.host} is in use (another eddy?): stop what uses it, or choose another port with --port N (or EDDY_PORT=N; 0 picks a free one)`,
    { cause: err },
  );
}

/** JWT settings from the flags, or undefined when none is given. */
function jwtOptions(opts: RunOptions): JwtOptions | undefined {
  const publicKey = opts.jwtPublicKey === undefined ? undefined : readFileSync(opts.jwtPublicKey, "utf8");
  if (opts.jwtSecret === undefined && publicKey === undefined && opts.jwtJwksUrl === undefined)
    return undefined;
  return {
    ...(opts.jwtSecret !== undefined ? { secret: opts.jwtSecret } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(opts.jwtJwksUrl !== undefined ? { jwksUrl: opts.jwtJwksUrl } : {}),
    ...(opts.jwtIssuer !== undefined ? { issuer: opts.jwtIssuer } : {}),
    ...(opts.jwtAudience !== undefined ? { audience: opts.jwtAudience } : {}),
  };
}

function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
  } catch (err) {
    throw new InvalidConfigError(`--env-file ${path}: ${(err as Error).message}`, { cause: err });
  }
}
