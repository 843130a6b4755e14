import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
  DeployFailedError,
  NoPreviousVersionError,
  NotFoundError,
  WriteConflictError,
} from "../errors/http.js";
import type { Engine } from "../engine.js";
import { inspectBundles } from "../functions/inspect.js";
import type { LoadedFunction, LoadFailure } from "../functions/inspect.js";
import type { Bundle } from "../runtime/bundler.js";
import { bundleFileName, versionOf } from "../runtime/bundler.js";
import type { DeployedVersion, DeployState } from "./state.js";
import { DeployStateStore, HISTORY_LIMIT } from "./state.js";
import { DeploySync } from "./sync.js";

/** What a deploy did to one function. */
export interface DeployChange {
  name: string;
  change: "added" | "updated" | "unchanged" | "removed";
  version: string | undefined;
  previous: string | undefined;
}

/** What applying a set of functions did: the changes, and the functions the engine refused. */
export interface Applied {
  changes: DeployChange[];
  failures: LoadFailure[];
  /** Functions deployed with something that looks like a mistake (a pattern key no event has). */
  warnings: LoadFailure[];
}

/** A bundled module as `eddy deploy` uploads it. */
export interface UploadedBundle {
  /** Source file, relative to the app folder, e.g. `functions/send-receipt.ts`. */
  file: string;
  /** The bundle (one ES module, as the bundler makes it). */
  code: string;
}

const FILE = /^[A-Za-z0-9_][A-Za-z0-9._/-]*\.(ts|mts|js|mjs)$/;

/**
 * Versions and deploys. Every change of the running set goes through here, one at a time: the app
 * folder at start and on `eddy dev` reloads, `eddy deploy` uploads, and rollbacks. Each is applied
 * with the engine's atomic swap and recorded (per function, the versions deployed, newest last) in
 * the backend, so that a restart runs what ran before it and a rollback knows the previous version.
 *
 * At start, the folder wins only if it changed since it was last deployed: a server restarted on an
 * untouched folder keeps the versions deployed over HTTP and the rollbacks made since.
 *
 * Processes sharing a backend (cluster nodes) share that record: a change made through one is
 * announced, and every other one applies the recorded set ({@link reconcile}, driven by
 * {@link DeploySync}). The engine also finds here the versions that pinned deliveries still run.
 */
export class Deployer {
  readonly #engine: Engine;
  readonly #store: DeployStateStore;
  readonly #bundleDir: string;
  readonly #sync: DeploySync;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(engine: Engine, bundleDir: string) {
    this.#engine = engine;
    this.#store = new DeployStateStore(engine.backend.kv, engine.clock);
    this.#bundleDir = bundleDir;
    this.#sync = new DeploySync({
      broadcast: engine.backend.capabilities.broadcast,
      store: this.#store,
      reconcile: () => this.reconcile(),
      log: engine.log,
    });
    engine.findVersionsWith(async (name, pin) => {
      const [fn] = await this.#materialize([{ name, ...pin }], new Map());
      return fn;
    });
  }

  /**
   * At start: the folder's functions, or what ran before the restart if the folder is unchanged.
   * `failures`: functions the engine refused (they do not run; the others do). Then follows the
   * deploys made through other processes.
   */
  async start(folder: LoadedFunction[]): Promise<Applied> {
    const applied = await this.#serial(() => this.#retryConflicts(() => this.#start(folder)));
    this.#sync.start();
    return applied;
  }

  /**
   * Makes the running set the recorded one, if it is not: another process (a cluster node) deployed.
   * Bundles this process lacks come from the backend's shared store.
   */
  reconcile(): Promise<void> {
    return this.#serial(async () => {
      const state = await this.#store.read();
      const wanted = state.running.flatMap((name) => {
        const h = state.history[name];
        return h && h.length > 0 ? [{ name, ...last(h) }] : [];
      });
      const running = this.#engine.deployed();
      if (same(wanted.map(versionKey).sort(), running.map(versionKey).sort())) return;
      const fns = await this.#materialize(wanted, new Map(running.map((f) => [versionKey(f), f])));
      const { failures } = await this.#engine.deploy(fns);
      for (const f of failures)
        this.#engine.log.error({ file: f.file }, `function not deployed: ${f.message}`);
      this.#engine.log.info(
        { functions: wanted.map(versionKey) },
        "applied a deploy made through another node",
      );
    });
  }

  /** Stops following other processes' deploys. */
  close(): Promise<void> {
    return this.#sync.close();
  }

  /**
   * Cluster nodes share the deployment state: nodes starting together race to record the folder.
   * Each applies the same functions, so a lost race is simply done again on the new state.
   */
  async #retryConflicts<T>(run: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await run();
      } catch (err) {
        if (!(err instanceof WriteConflictError) || attempt >= 8) throw err;
        await new Promise((r) => setTimeout(r, Math.random() * 50 * attempt));
      }
    }
  }

  async #start(folder: LoadedFunction[]): Promise<Applied> {
    {
      const state = await this.#store.read();
      const key = folderKey(folder);
      if (state.folder && same(state.folder, key)) {
        const loaded = new Map(folder.map((f) => [versionKey(f), f]));
        const wanted = state.running.map((name) => ({ name, ...last(state.history[name]!) }));
        const fns = await this.#materialize(wanted, loaded);
        for (const f of folder) if (!fns.includes(f)) void f.warm?.terminate();
        // What the engine refused of this folder before is refused still: say so again.
        return this.#apply(state, fns, "folder", key, state.refused ?? []);
      }
      return this.#apply(state, folder, "folder", key);
    }
  }

  /** `eddy dev`: the folder changed; `functions` is its whole new set. */
  reload(functions: LoadedFunction[]): Promise<Applied> {
    return this.#serial(async () =>
      this.#apply(await this.#store.read(), functions, "folder", folderKey(functions)),
    );
  }

  /**
   * `eddy deploy`: the uploaded bundles become the whole running set, all or nothing: if one
   * module fails to load, nothing changes and the error names it.
   */
  upload(bundles: UploadedBundle[]): Promise<Omit<Applied, "failures">> {
    return this.#serial(async () => {
      const problems = bundles.flatMap((b, i) =>
        typeof b?.file !== "string" || !FILE.test(b.file) || b.file.split("/").includes("..")
          ? [
              {
                path: `functions[${i}].file`,
                message: `must be a relative .ts/.js/.mts/.mjs path, got ${JSON.stringify(b?.file)}`,
              },
            ]
          : typeof b.code !== "string"
            ? [{ path: `functions[${i}].code`, message: "must be the bundle's code as a string" }]
            : [],
      );
      if (problems.length > 0) throw new DeployFailedError("the upload is malformed", { errors: problems });
      const stored = bundles.map((b) => this.#save(b));
      const { functions, failures } = await inspectBundles(stored, this.#engine.inspectOptions());
      failures.push(...this.#engine.check(functions));
      if (failures.length > 0) {
        for (const f of functions) void f.warm?.terminate();
        throw new DeployFailedError(`${failures.length} module(s) failed to load; nothing was deployed`, {
          errors: failures.map((f) => ({ path: f.file, message: f.message })),
        });
      }
      const applied = await this.#apply(await this.#store.read(), functions, "api");
      // The upload is the whole running set now: what the folder failed to load is no longer wanted.
      this.#engine.loadFailures.clear();
      return { changes: applied.changes, warnings: applied.warnings };
    });
  }

  /**
   * `eddy rollback`: back to the version deployed before the current one (rolling back again goes
   * further back), or to `version` if given (any version still in the history).
   */
  rollback(name: string, version?: string): Promise<DeployChange> {
    return this.#serial(async () => {
      const state = await this.#store.read();
      const history = state.history[name];
      if (!history || !state.running.includes(name)) {
        throw new NotFoundError(`no function named "${name}" is deployed`);
      }
      const current = last(history);
      let target: DeployedVersion | undefined;
      if (version !== undefined) {
        target = history.find((h) => h.version === version);
        if (!target) {
          throw new NotFoundError(
            `${name} has no version ${version}; known: ${history.map((h) => h.version).join(", ")}`,
          );
        }
        history.push({ ...target, deployedAt: this.#engine.clock.now(), via: "rollback" });
      } else {
        if (history.length < 2) {
          throw new NoPreviousVersionError(
            `${name} has no version before ${current.version} to roll back to`,
          );
        }
        history.pop();
        target = last(history);
      }
      const [fn] = await this.#materialize([{ name, ...target }], new Map());
      const refused = this.#engine.check([fn!]);
      if (refused.length > 0) {
        void fn!.warm?.terminate();
        throw new DeployFailedError(`${name} ${target.version} can no longer be deployed`, {
          errors: refused.map((f) => ({ path: f.file, message: f.message })),
        });
      }
      const others = this.#engine.deployed().filter((f) => f.name !== name);
      await this.#engine.deploy([...others, fn!]);
      await this.#store.write(state);
      this.#sync.announce();
      return { name, change: "updated", version: target.version, previous: current.version };
    });
  }

  /** Versions of a function, oldest first; the last one runs. */
  async history(name: string): Promise<DeployedVersion[]> {
    return (await this.#store.read()).history[name] ?? [];
  }

  async #apply(
    state: DeployState,
    next: LoadedFunction[],
    via: DeployedVersion["via"],
    folder?: string[],
    carried: LoadFailure[] = [],
  ): Promise<Applied> {
    const before = new Map(this.#engine.deployed().map((f) => [f.name, f.version]));
    const deployed = await this.#engine.deploy(next);
    const failures = [...carried, ...deployed.failures];
    const refused = new Set(failures.map((f) => f.file));
    next = next.filter((f) => !refused.has(f.file));
    const changes: DeployChange[] = [];
    for (const f of next) {
      const previous = before.get(f.name);
      changes.push({
        name: f.name,
        change: previous === undefined ? "added" : previous === f.version ? "unchanged" : "updated",
        version: f.version,
        previous,
      });
      const h = (state.history[f.name] ??= []);
      if (h.at(-1)?.version !== f.version) {
        h.push({ version: f.version, file: f.file, deployedAt: this.#engine.clock.now(), via });
        if (h.length > HISTORY_LIMIT) h.splice(0, h.length - HISTORY_LIMIT);
      }
    }
    for (const [name, version] of before) {
      if (!next.some((f) => f.name === name))
        changes.push({ name, change: "removed", version: undefined, previous: version });
    }
    state.running = next.map((f) => f.name);
    if (folder) state.folder = folder;
    state.refused = via === "folder" ? failures : [];
    await this.#share(next);
    await this.#store.write(state);
    this.#sync.announce();
    return { changes, failures, warnings: deployed.warnings };
  }

  /**
   * Puts the bundles of `functions` in the backend's shared store, if it has one (cluster), before
   * their versions are recorded: another node may then run them after a restart without having
   * built or received them.
   */
  async #share(functions: LoadedFunction[]): Promise<void> {
    const store = this.#engine.backend.capabilities.bundles;
    if (!store || functions.length === 0) return;
    const names = functions.map((f) => basename(f.bundlePath));
    const stored = await store.has(names);
    const missing = functions.filter((f) => !stored.has(basename(f.bundlePath)));
    if (missing.length > 0) {
      await store.put(
        missing.map((f) => ({ name: basename(f.bundlePath), code: readFileSync(f.bundlePath) })),
      );
    }
  }

  /** Loaded functions for recorded versions: from `loaded` when there, else their stored bundles. */
  async #materialize(
    wanted: { name: string; version: string; file: string }[],
    loaded: Map<string, LoadedFunction>,
  ): Promise<LoadedFunction[]> {
    const out: LoadedFunction[] = [];
    const missing: Bundle[] = [];
    for (const w of wanted) {
      const have = loaded.get(`${w.name}@${w.version}`);
      if (have) out.push(have);
      else {
        const name = bundleFileName(w.file, w.version);
        const path = join(this.#bundleDir, name);
        if (!existsSync(path)) {
          // Deployed through another node: from the shared store, if the backend has one.
          const code = await this.#engine.backend.capabilities.bundles?.get(name);
          if (!code)
            throw new DeployFailedError(
              `the bundle of ${w.name} ${w.version} is gone from ${this.#bundleDir}`,
            );
          this.#write(path, code);
        }
        missing.push({ file: w.file, version: w.version, path });
      }
    }
    const { functions, failures } = await inspectBundles(missing, this.#engine.inspectOptions());
    if (failures.length > 0) {
      for (const f of [...functions, ...out]) void f.warm?.terminate();
      throw new DeployFailedError("a recorded version no longer loads", {
        errors: failures.map((f) => ({ path: f.file, message: f.message })),
      });
    }
    return [...out, ...functions];
  }

  /** Writes an uploaded bundle where the bundler would have, named by its content hash. */
  #save(b: UploadedBundle): Bundle {
    const code = Buffer.from(b.code);
    const version = versionOf(code);
    const path = join(this.#bundleDir, bundleFileName(b.file, version));
    if (!existsSync(path)) this.#write(path, code);
    return { file: b.file, version, path };
  }

  /** Writes a bundle whole or not at all (a crash never leaves half a bundle under its name). */
  #write(path: string, code: Uint8Array): void {
    mkdirSync(this.#bundleDir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, path);
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

function versionKey(f: { name: string; version: string }): string {
  return `${f.name}@${f.version}`;
}

function folderKey(functions: LoadedFunction[]): string[] {
  return functions.map(versionKey).sort();
}

function same(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function last<T>(list: T[]): T {
  return list[list.length - 1]!;
}
