import { readFileSync } from "node:fs";
import { basename, extname } from "node:path";
import type { ResolvedFunctionConfig } from "eddy";
import type { BlankPool } from "../runtime/blank-pool.js";
import type { SandboxKind } from "../runtime/channel.js";
import type { Bundle } from "../runtime/bundler.js";
import type { Sandbox } from "../runtime/sandbox.js";

/** A function ready to run: its code (a content-hashed bundle) and its resolved configuration. */
export interface LoadedFunction {
  name: string;
  /** Source file, relative to the app folder. */
  file: string;
  version: string;
  bundlePath: string;
  config: ResolvedFunctionConfig;
  /** The sandbox that read the configuration, kept as the pool's first warm one (if it fits). */
  warm?: Sandbox;
}

/** A file that could not become a function. */
export interface LoadFailure {
  file: string;
  message: string;
}

/** What reading configurations needs. */
export interface InspectOptions {
  blanks: BlankPool;
  /**
   * The server's isolation floor. A module's configuration is only known once its code ran, so
   * it is read in a sandbox of this kind: a server for untrusted code ("process") never runs any
   * of it in a thread, even the part that declares `isolation: "process"`.
   */
  isolation: SandboxKind;
  env: Record<string, string>;
  region?: string;
  loadTimeoutMs: number;
  /** Sandboxes reading configurations at once. Default 4. */
  parallel?: number;
}

/** Heap limit of the sandbox that reads a module's configuration: the default `memoryMb`. */
const INSPECT_MB = 128;

/** The sandbox kind a function runs in: its own choice, raised to the server's floor. */
export function effectiveIsolation(config: ResolvedFunctionConfig, floor: SandboxKind): SandboxKind {
  return floor === "process" ? "process" : config.isolation;
}

/**
 * Reads each bundle's configuration by loading it in a sandbox (user code never runs in the
 * engine's own realm). A bad module is reported and skipped; the others load. Bounded in
 * parallel, so an app of a thousand functions does not start a thousand sandboxes at once.
 */
export async function inspectBundles(
  bundles: Bundle[],
  options: InspectOptions,
): Promise<{ functions: LoadedFunction[]; failures: LoadFailure[] }> {
  const functions: LoadedFunction[] = [];
  const failures: LoadFailure[] = [];
  const queue = [...bundles];
  const worker = async () => {
    for (let b = queue.shift(); b; b = queue.shift()) {
      try {
        functions.push(await inspectOne(b, options));
      } catch (err) {
        failures.push({ file: b.file, message: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel ?? 4 }, worker));
  functions.sort((a, b) => a.name.localeCompare(b.name));
  for (let i = 1; i < functions.length; i++) {
    const [prev, cur] = [functions[i - 1]!, functions[i]!];
    if (prev.name === cur.name) {
      failures.push({ file: cur.file, message: `function name "${cur.name}" is also used by ${prev.file}` });
      void cur.warm?.terminate();
      functions.splice(i--, 1);
    }
  }
  return { functions, failures };
}

async function inspectOne(b: Bundle, options: InspectOptions): Promise<LoadedFunction> {
  const { sandbox } = await options.blanks.take(options.isolation, INSPECT_MB, { demand: false });
  const { config } = await sandbox.load(
    {
      file: b.file,
      env: options.env,
      region: options.region,
      ...(options.isolation === "process"
        ? { source: readFileSync(b.path, "utf8") }
        : { bundlePath: b.path }),
    },
    options.loadTimeoutMs,
  );
  const name = config.name ?? basename(b.file, extname(b.file));
  // Keep the sandbox for the pool only if it is what the pool would start, and the pool wants one
  // warm: a thousand idle functions must not hold a thousand sandboxes.
  let warm: Sandbox | undefined = sandbox;
  const fits =
    effectiveIsolation(config, options.isolation) === options.isolation && config.memoryMb === INSPECT_MB;
  if (!fits || config.concurrency.min === 0) {
    void sandbox.terminate();
    warm = undefined;
  }
  return { name, file: b.file, version: b.version, bundlePath: b.path, config, warm };
}
