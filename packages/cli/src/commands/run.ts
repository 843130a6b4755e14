import type { Command } from "commander";
import { createLogger, DEFAULTS, startEddy } from "@eddy/server";
import { parseDuration } from "eddy";
import { integer } from "../options.js";

/** `eddy dev [dir]` and `eddy start [dir]`. */
export function registerRunCommands(program: Command): void {
  for (const mode of ["dev", "start"] as const) {
    program
      .command(`${mode} [dir]`)
      .description(
        mode === "dev"
          ? "run the app in a folder for development (readable logs)"
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
      .option("--otlp-endpoint <url>", "export spans over OTLP/HTTP (or OTEL_EXPORTER_OTLP_ENDPOINT)")
      .action(async (dir: string | undefined, opts: RunOptions) => {
        await run(mode, dir ?? ".", opts);
      });
  }
}

interface RunOptions {
  port: number;
  host: string;
  dataDir?: string;
  grace: string;
  otlpEndpoint?: string;
}

async function run(mode: "dev" | "start", dir: string, opts: RunOptions) {
  const graceMs = parseDuration(opts.grace, "--grace");
  const log = createLogger({ level: process.env.EDDY_LOG_LEVEL ?? (mode === "dev" ? "warn" : "info") });
  const eddy = await startEddy({
    dir,
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    log,
    ...(opts.otlpEndpoint ? { otlpEndpoint: opts.otlpEndpoint } : {}),
  });
  const names = eddy.engine.functions().map((f) => f.name);
  if (mode === "dev") {
    process.stdout.write(`eddy dev: ${names.length} function(s) loaded: ${names.join(", ") || "(none)"}\n`);
    for (const f of eddy.failures) process.stdout.write(`  ✗ ${f.file}: ${f.message}\n`);
    process.stdout.write(`eddy dev: ready on ${eddy.url}\n`);
  } else {
    log.info({ url: eddy.url, functions: names }, "ready");
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, "shutting down: finishing attempts in flight");
      eddy.close(graceMs).then(resolve, (err: unknown) => {
        log.error({ err }, "shutdown failed");
        resolve();
      });
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
