import type { FSWatcher } from "node:fs";
import { watch } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type { DeployChange, Deployer } from "../deploy/deployer.js";
import type { Engine } from "../engine.js";
import { bundleFunctions } from "../runtime/bundler.js";
import type { LoadedFunction, LoadFailure } from "./inspect.js";
import { inspectBundles } from "./inspect.js";
import { listFunctionFiles } from "./loader.js";

/** What one reload did. */
export interface ReloadReport {
  /** From the first file change seen to the new versions running. */
  ms: number;
  changes: DeployChange[];
  /** Files that failed to bundle or load: their previous version (if any) keeps running. */
  failures: LoadFailure[];
  /** Functions deployed with something that looks like a mistake (a pattern key no event has). */
  warnings: LoadFailure[];
}

/** Options of {@link watchFunctions}. */
export interface WatchOptions {
  /** The app folder. */
  dir: string;
  bundleDir: string;
  engine: Engine;
  deployer: Deployer;
  /** Changes closer together than this are one reload. Default 25 ms. */
  debounceMs?: number;
  onReload(report: ReloadReport): void;
  onError(err: unknown): void;
}

/**
 * `eddy dev`: watches the function files and every source file they import (not node_modules),
 * and on a change re-bundles only the functions whose inputs changed, reads their configuration,
 * and deploys the new set. A file that fails to bundle or load is reported and its previous
 * version keeps running; the other functions are never stopped.
 *
 * @example
 * const watcher = watchFunctions({ dir, bundleDir, engine, deployer, onReload: console.log, onError: console.error });
 */
export function watchFunctions(options: WatchOptions): {
  /** Settles when the watcher knows every function's inputs and watches their folders. */
  ready: Promise<void>;
  close(): void;
} {
  const dir = resolve(options.dir);
  const functionsDir = join(dir, "functions");
  /** Per function file (absolute): the source files its bundle was built from. */
  const inputs = new Map<string, Set<string>>();
  const watchers = new Map<string, FSWatcher>();
  let pending = new Set<string>();
  let firstChangeAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let closed = false;

  const onChange = (path: string) => {
    if (closed) return;
    if (pending.size === 0) firstChangeAt = performance.now();
    pending.add(path);
    clearTimeout(timer);
    timer = setTimeout(() => {
      const changed = pending;
      pending = new Set();
      const since = firstChangeAt;
      running = running.then(() => reload(changed, since)).catch(options.onError);
    }, options.debounceMs ?? 25);
  };

  /** Watches the folders that hold a function or an input of one; stops watching the others. */
  const syncWatchers = () => {
    const dirs = new Set([functionsDir]);
    for (const set of inputs.values()) for (const p of set) dirs.add(dirname(p));
    for (const [d, w] of watchers) {
      if (dirs.has(d)) continue;
      w.close();
      watchers.delete(d);
    }
    for (const d of dirs) {
      if (watchers.has(d)) continue;
      try {
        const w = watch(d, (_event, name) => onChange(name ? join(d, name.toString()) : d));
        w.on("error", () => (w.close(), watchers.delete(d)));
        watchers.set(d, w);
      } catch {
        // The folder does not exist (yet): a later reload watches it.
      }
    }
  };

  const reload = async (changed: Set<string>, since: number) => {
    const files = listFunctionFiles(dir);
    const fileSet = new Set(files);
    // Re-bundle what is new, what imports a changed file, and what failed before (maybe fixed now).
    const stale = files.filter((f) => {
      const used = inputs.get(f);
      return !used || changed.has(f) || [...used].some((p) => changed.has(p));
    });
    const removed = [...inputs.keys()].filter((f) => !fileSet.has(f));
    if (stale.length === 0 && removed.length === 0) return;
    const { bundles, failures } = await bundleFunctions(dir, stale, options.bundleDir);
    for (const b of bundles) inputs.set(join(dir, b.file), new Set(b.inputs ?? []));
    for (const f of failures) inputs.delete(join(dir, f.file));
    for (const f of removed) inputs.delete(f);
    const inspected = await inspectBundles(bundles, options.engine.inspectOptions());
    failures.push(...inspected.failures);
    for (const f of inspected.failures) inputs.delete(join(dir, f.file));

    // The new set: what ran, minus removed files and replaced versions, plus the new versions.
    const byFile = new Map<string, LoadedFunction>();
    for (const f of options.engine.deployed()) if (fileSet.has(join(dir, f.file))) byFile.set(f.file, f);
    for (const f of inspected.functions) {
      const clash = [...byFile.values()].find((o) => o.name === f.name && o.file !== f.file);
      if (clash) {
        failures.push({ file: f.file, message: `function name "${f.name}" is also used by ${clash.file}` });
        inputs.delete(join(dir, f.file));
        void f.warm?.terminate();
      } else byFile.set(f.file, f);
    }
    const applied = await options.deployer.reload([...byFile.values()]);
    failures.push(...applied.failures);
    syncWatchers();
    const known = options.engine.loadFailures;
    for (const f of [...stale, ...removed]) known.delete(relative(dir, f));
    for (const f of failures) known.set(f.file, f.message);
    options.onReload({
      ms: performance.now() - since,
      changes: applied.changes.filter((c) => c.change !== "unchanged"),
      failures,
      warnings: applied.warnings,
    });
  };

  // What is running now was loaded from the folder at start: bundle once more to learn the inputs
  // (esbuild is fast, and the versions come out the same, so nothing is redeployed).
  const ready = bundleFunctions(dir, listFunctionFiles(dir), options.bundleDir).then(({ bundles }) => {
    for (const b of bundles) inputs.set(join(dir, b.file), new Set(b.inputs ?? []));
    syncWatchers();
  }, options.onError);

  return {
    ready,
    close() {
      closed = true;
      clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}
