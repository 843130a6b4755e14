import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { bundleFunctions } from "../runtime/bundler.js";
import type { InspectOptions, LoadedFunction, LoadFailure } from "./inspect.js";
import { inspectBundles } from "./inspect.js";

export type { LoadedFunction, LoadFailure } from "./inspect.js";

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
 * Bundles every function of an app and reads each one's configuration in a sandbox. One bad file
 * is reported and skipped; the others load.
 */
export async function loadFunctions(
  appDir: string,
  bundleDir: string,
  options: InspectOptions,
): Promise<{ functions: LoadedFunction[]; failures: LoadFailure[] }> {
  const { bundles, failures } = await bundleFunctions(appDir, listFunctionFiles(appDir), bundleDir);
  const inspected = await inspectBundles(bundles, options);
  return { functions: inspected.functions, failures: [...failures, ...inspected.failures] };
}
