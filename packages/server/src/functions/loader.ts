import { readdirSync, statSync } from "node:fs";
import { basename, extname, join } from "node:path";
import type { ResolvedFunctionConfig } from "eddy";
import { bundleFunctions } from "../runtime/bundler.js";
import type { StartedSandbox } from "../runtime/thread-sandbox.js";
import { ThreadSandbox } from "../runtime/thread-sandbox.js";

/** A function ready to run: its code (a content-hashed bundle) and its resolved configuration. */
export interface LoadedFunction {
  name: string;
  /** Source file, relative to the app folder. */
  file: string;
  version: string;
  bundlePath: string;
  config: ResolvedFunctionConfig;
  /** The sandbox that read the configuration, handed to the pool as its first warm one. */
  warm?: StartedSandbox;
}

/** A file under functions/ that could not become a function. */
export interface LoadFailure {
  file: string;
  message: string;
}

/** Heap limit of the sandbox that reads a module's configuration: the default `memoryMb`. */
const INSPECT_MB = 128;
const SOURCE = /\.(ts|mts|js|mjs)$/;
const IGNORED = /(\.d\.ts|\.test\.[cm]?[tj]s|\.spec\.[cm]?[tj]s)$/;

/** The function entry files of an app: every source file directly under `<appDir>/functions/`. */
export function listFunctionFiles(appDir: string): string[] {
  const dir = join(appDir, "functions");
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => SOURCE.test(n) && !IGNORED.test(n) && !n.startsWith("_") && !n.startsWith("."))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .sort();
}

/**
 * Bundles every function of an app and reads each one's configuration by loading it in a sandbox
 * (user code never runs in the engine's own realm). One bad file is reported and skipped; the
 * others load.
 */
export async function loadFunctions(
  appDir: string,
  bundleDir: string,
  env: Record<string, string>,
): Promise<{ functions: LoadedFunction[]; failures: LoadFailure[] }> {
  const files = listFunctionFiles(appDir);
  const { bundles, failures } = await bundleFunctions(appDir, files, bundleDir);
  const functions: LoadedFunction[] = [];
  await Promise.all(
    bundles.map(async (b) => {
      try {
        const started = await ThreadSandbox.start({
          bundlePath: b.path,
          file: b.file,
          memoryMb: INSPECT_MB,
          env,
        });
        const config = started.config;
        const name = config.name ?? basename(b.file, extname(b.file));
        // Keep the sandbox warm for the pool only if it has the function's own heap limit.
        let warm: StartedSandbox | undefined = started;
        if (config.memoryMb !== INSPECT_MB) {
          void started.sandbox.terminate();
          warm = undefined;
        }
        functions.push({ name, file: b.file, version: b.version, bundlePath: b.path, config, warm });
      } catch (err) {
        failures.push({ file: b.file, message: (err as Error).message });
      }
    }),
  );
  functions.sort((a, b) => a.name.localeCompare(b.name));
  for (let i = 1; i < functions.length; i++) {
    const [prev, cur] = [functions[i - 1]!, functions[i]!];
    if (prev.name === cur.name) {
      failures.push({ file: cur.file, message: `function name "${cur.name}" is also used by ${prev.file}` });
      void cur.warm?.sandbox.terminate();
      functions.splice(i--, 1);
    }
  }
  return { functions, failures };
}
