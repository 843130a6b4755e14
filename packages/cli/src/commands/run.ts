import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import type { ReloadReport, RunningEddy } from "@eddy/server";
import { createLogger, DEFAULTS, startEddy, watchFunctions } from "@eddy/server";
import { parseDuration } from "eddy";
import { integer } from "../options.js";

interface RunOptions {
  port: number;
  host: string;
  dataDir?: string;
  adminKey?: string;
  isolation: "thread" | "process";
  envFile?: string;
  grace: string;
}

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
      .option(
        "-p, --port <port>",
        `HTTP port (0: any free port)`,
        integer("--port"),
        Number(process.env.EDDY_PORT ?? DEFAULTS.port),
      )
      .option("--host <host>", "address to listen on", process.env.EDDY_HOST ?? DEFAULTS.host)
      .option("--data-dir <path>", "where the embedded store keeps its data (default <dir>/.eddy)")
      .option("--grace <duration>", "on SIGTERM, how long attempts in flight may take to finish", "30s")
      .option(
        "--admin-key <key>",
        "allow deploys over HTTP with this key, 16+ characters (or EDDY_ADMIN_KEY)",
        process.env.EDDY_ADMIN_KEY,
      )
      .option(
        "--isolation <kind>",
        'least isolation of every function: "thread", or "process" for untrusted code (or EDDY_ISOLATION)',
        isolation,
        isolation(process.env.EDDY_ISOLATION ?? "thread"),
      )
      .option("--env-file <path>", "ctx.env of every function, from a KEY=value file (kept out of logs)")
      .action(async (dir: string | undefined, opts: RunOptions) => {
        await run(mode, dir ?? ".", opts);
      });
  }
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
  const env = opts.envFile === undefined ? {} : readEnvFile(opts.envFile);
  const eddy = await startEddy({
    dir,
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    log,
    // An empty EDDY_ADMIN_KEY means none, as an unset one does.
    adminKey: opts.adminKey || undefined,
    isolation: opts.isolation,
    env,
  });
  const names = eddy.engine.functions().map((f) => f.name);
  let watcher: { close(): void } | undefined;
  if (mode === "dev") {
    process.stdout.write(`eddy dev: ${names.length} function(s) loaded: ${names.join(", ") || "(none)"}\n`);
    for (const f of eddy.failures) process.stdout.write(`  ✗ ${f.file}: ${f.message}\n`);
    watcher = watch(eddy);
    process.stdout.write(`eddy dev: ready on ${eddy.url}\n`);
  } else {
    log.info({ url: eddy.url, functions: names, deploys: Boolean(opts.adminKey) }, "ready");
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
      for (const f of r.failures) {
        process.stdout.write(`  ✗ ${f.file}: ${f.message}\n    (the previous version keeps running)\n`);
      }
    },
    onError: (err) => process.stdout.write(`  ✗ reload failed: ${(err as Error).message}\n`),
  });
}

function readEnvFile(path: string): Record<string, string> {
  try {
    return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
  } catch (err) {
    throw new Error(`--env-file ${path}: ${(err as Error).message}`);
  }
}
