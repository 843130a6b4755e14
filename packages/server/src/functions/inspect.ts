import { readFileSync } from "node:fs";
import type { ResolvedFunctionConfig } from "eddy";
import { checkResolvedConfig } from "eddy/internal";
import type { BlankPool } from "../runtime/blank-pool.js";
import type { SandboxKind } from "../runtime/channel.js";
import type { Bundle } from "../runtime/bundler.js";
import { FunctionLoadError } from "../errors/attempt.js";
import { functionName } from "../runtime/protocol.js";
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
  /**
   * Configurations already read, by version. A version is the hash of the bundle's code, so the
   * same version declares the same configuration: a restart does not run a thousand modules again.
   */
  cache?: ConfigCache;
}

/** Configurations by bundle version (see {@link InspectOptions.cache}). */
export interface ConfigCache {
  get(version: string): Promise<ResolvedFunctionConfig | undefined>;
  set(version: string, config: ResolvedFunctionConfig): Promise<void>;
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
  const unknown: Bundle[] = [];
  for (const b of bundles) {
    const cached = await options.cache?.get(b.version);
    const config = cached && checkedConfig(b, cached);
    if (config && !(config instanceof Error)) functions.push(loaded(b, config));
    else unknown.push(b);
  }
  // Trusted code (thread floor) is read in batches, one sandbox per batch; untrusted code (process
  // floor) one module per sandbox, so that no module shares a realm with another's code.
  const batched = options.isolation === "thread" && unknown.length > 1;
  const queue: Bundle[][] = batched ? chunks(unknown, BATCH) : unknown.map((b) => [b]);
  const worker = async () => {
    for (let batch = queue.shift(); batch; batch = queue.shift()) {
      if (batch.length > 1) {
        const read = await inspectBatch(batch, options);
        if (read) {
          functions.push(...read.functions);
          failures.push(...read.failures);
          continue;
        }
        // The batch did not finish (a module hangs at import, or crashes its sandbox): one by one.
        queue.push(...batch.map((b) => [b]));
        continue;
      }
      const b = batch[0]!;
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

/** Modules whose configuration one sandbox reads at a time (thread floor). */
const BATCH = 25;

async function inspectBatch(
  batch: Bundle[],
  options: InspectOptions,
): Promise<{ functions: LoadedFunction[]; failures: LoadFailure[] } | undefined> {
  const { sandbox } = await options.blanks.take("thread", INSPECT_MB, { demand: false });
  let results;
  try {
    const items = batch.map((b) => ({
      file: b.file,
      bundlePath: b.path,
      env: options.env,
      region: options.region,
    }));
    results = await sandbox.inspect(items, options.loadTimeoutMs);
  } catch {
    return undefined;
  }
  const out = { functions: [] as LoadedFunction[], failures: [] as LoadFailure[] };
  const cached: Promise<void>[] = [];
  for (const [i, r] of results.entries()) {
    const b = batch[i]!;
    const config = r.ok ? checkedConfig(b, r.config) : new FunctionLoadError(b.file, r.error.message);
    if (config instanceof Error) {
      out.failures.push({ file: b.file, message: config.message });
      continue;
    }
    // All at once: the store writes them in one commit.
    if (options.cache) cached.push(options.cache.set(b.version, config));
    out.functions.push(loaded(b, config));
  }
  await Promise.all(cached);
  return out;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function inspectOne(b: Bundle, options: InspectOptions): Promise<LoadedFunction> {
  const { sandbox } = await options.blanks.take(options.isolation, INSPECT_MB, { demand: false });
  const { config: reported } = await sandbox.load(
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
  const config = checkedConfig(b, reported);
  if (config instanceof Error) {
    void sandbox.terminate();
    throw config;
  }
  await options.cache?.set(b.version, config);
  // Keep the sandbox for the pool only if it is what the pool would start, and the pool wants one
  // warm: a thousand idle functions must not hold a thousand sandboxes.
  let warm: Sandbox | undefined = sandbox;
  const fits =
    effectiveIsolation(config, options.isolation) === options.isolation && config.memoryMb === INSPECT_MB;
  if (!fits || config.concurrency.min === 0) {
    void sandbox.terminate();
    warm = undefined;
  }
  return loaded(b, config, warm);
}

/**
 * The configuration a sandbox reported, if it is one `defineFunction` could have made: the module's
 * code ran there and may have changed it afterwards, so nothing in it is trusted unchecked.
 */
function checkedConfig(b: Bundle, reported: unknown): ResolvedFunctionConfig | FunctionLoadError {
  try {
    if ((JSON.stringify(reported) ?? "").length > MAX_CONFIG_CHARS) {
      return new FunctionLoadError(
        b.file,
        `the configuration is over ${MAX_CONFIG_CHARS} characters as JSON`,
      );
    }
    return checkResolvedConfig(reported);
  } catch (err) {
    return new FunctionLoadError(b.file, `invalid configuration: ${(err as Error).message}`);
  }
}

/** Largest configuration (as JSON) a module may declare: route schemas included, it is read at every deploy. */
const MAX_CONFIG_CHARS = 1024 * 1024;

function loaded(b: Bundle, config: ResolvedFunctionConfig, warm?: Sandbox): LoadedFunction {
  const name = functionName(b.file, config);
  return { name, file: b.file, version: b.version, bundlePath: b.path, config, warm };
}
