import type { KeyValue, KvBatchWrite } from "../backends/types.js";
import { kvEntries } from "../backends/kv-entries.js";
import type { Clock } from "../clock/clock.js";
import { realClock } from "../clock/clock.js";
import { WriteConflictError } from "../errors/http.js";

/** One version of a function as it was deployed. */
export interface DeployedVersion {
  version: string;
  /** Source file, relative to the app folder. */
  file: string;
  deployedAt: number;
  /** How it came: the app folder (start, `eddy dev` reload), `eddy deploy`, or `eddy rollback`. */
  via: "folder" | "api" | "rollback";
}

/** What is deployed and what was, kept in the backend so that it survives restarts. */
export interface DeployState {
  /** Per function, its versions in the order they were deployed; the last one is running. */
  history: Record<string, DeployedVersion[]>;
  /** Functions running now (their last history entry). */
  running: string[];
  /** `name@version` of the app folder's functions at its last load, sorted; null before any. */
  folder: string[] | null;
  /**
   * Functions of the app folder that loaded but the engine refused (a bad cron, a route conflict)
   * at its last load: a restart on the unchanged folder reports them again instead of dropping
   * them silently. Empty after a deploy over HTTP.
   */
  refused?: { file: string; message: string }[];
}

/**
 * The deployment state in the backend's key-value store, one key per function, in namespace
 * `eddy:deploy`:
 *
 * - `fn/<name>`: the function's history, and its place in the running set if it runs;
 * - `folder`: the app folder's functions and refusals at its last load;
 * - `rev`: bumped by every write, in the same atomic batch: a write compares it with what it read,
 *   so a write over a state that another process changed since is refused, not merged.
 *
 * Releases before 0.2 kept it all in one document (`state`); it is moved at the first read.
 */
const NS = "eddy:deploy";
const REV = "rev";
const FOLDER = "folder";
const FN = "fn/";
const LEGACY = "state";
/** Versions kept per function for rollback. */
export const HISTORY_LIMIT = 20;
/** Reads that find the state changing under them before giving up (another process deploying without pause). */
const READ_TRIES = 5;

/** What `fn/<name>` holds. */
interface StoredFunction {
  history: DeployedVersion[];
  /** Its index in `DeployState.running`, if it runs. */
  running?: number;
}

/** What `folder` holds. */
interface StoredFolder {
  folder: string[] | null;
  refused?: { file: string; message: string }[];
}

/**
 * The deployment state in the backend's key-value store, written atomically with compare-and-set.
 * Everything that stores or watches deploy state goes through this class, so that storing it
 * otherwise changes this file only.
 */
export class DeployStateStore {
  readonly #kv: KeyValue;
  /** Version of `rev` at the last read or write (0: none yet). */
  #rev = 0;
  /** The keys as last read or written, as JSON: a write sends only what changed. */
  #stored = new Map<string, string>();

  readonly #clock: Clock;

  /** @param clock where the time each write stamps on `rev` is read. */
  constructor(kv: KeyValue, clock: Clock = realClock) {
    this.#kv = kv;
    this.#clock = clock;
  }

  /**
   * The state as one consistent snapshot: `rev` read before and after the keys; if a write
   * happened in between, read again.
   */
  async read(): Promise<DeployState> {
    for (let i = 0; i < READ_TRIES; i++) {
      const rev = (await this.#kv.get(NS, REV))?.version ?? 0;
      if (rev === 0 && (await this.#moveLegacy())) continue;
      const stored = new Map<string, unknown>();
      for await (const e of kvEntries(this.#kv, NS, FN)) stored.set(e.key, e.value);
      const folder = await this.#kv.get(NS, FOLDER);
      if (folder) stored.set(FOLDER, folder.value);
      if (((await this.#kv.get(NS, REV))?.version ?? 0) !== rev) continue;
      this.#rev = rev;
      this.#stored = new Map([...stored].map(([k, v]) => [k, JSON.stringify(v)]));
      return decode(stored);
    }
    throw conflict();
  }

  /**
   * Writes the state over the version last read, in one atomic batch of the keys that changed.
   * Deploys are serialized in this process; a failed compare means another process wrote
   * meanwhile, which the embedded store's lock rules out and a cluster must not do silently.
   */
  async write(state: DeployState): Promise<void> {
    const next = new Map([...encode(state)].map(([k, v]) => [k, JSON.stringify(v)]));
    const writes: KvBatchWrite[] = [{ ns: NS, key: REV, value: this.#clock.now(), ifVersion: this.#rev }];
    for (const [key, json] of next) {
      if (this.#stored.get(key) !== json) writes.push({ ns: NS, key, value: JSON.parse(json) as unknown });
    }
    for (const key of this.#stored.keys()) if (!next.has(key)) writes.push({ ns: NS, key, value: undefined });
    const versions = await this.#kv.batch(writes);
    if (versions === undefined) throw conflict();
    this.#rev = versions[0]!;
    this.#stored = next;
  }

  /**
   * A number that changes after every write of the state by any process (0 before the first): the
   * version of `rev`. A process that saw it change reads the state again. Cheap to read often.
   */
  async revision(): Promise<number> {
    return (await this.#kv.get(NS, REV))?.version ?? 0;
  }

  /** Moves the one-document state of earlier releases to its keys; true if there was one. */
  async #moveLegacy(): Promise<boolean> {
    const old = await this.#kv.get(NS, LEGACY);
    if (!old) return false;
    const writes: KvBatchWrite[] = [
      { ns: NS, key: REV, value: this.#clock.now(), ifVersion: 0 },
      { ns: NS, key: LEGACY, value: undefined, ifVersion: old.version },
    ];
    for (const [key, value] of encode(old.value as DeployState)) writes.push({ ns: NS, key, value });
    await this.#kv.batch(writes); // undefined: another process moved it first, just as well
    return true;
  }
}

/** Another process (a cluster node) wrote the deployment state since it was read. */
function conflict(): WriteConflictError {
  return new WriteConflictError(
    "[deploy] the deployment state was changed by another process; retry the deploy",
  );
}

function encode(state: DeployState): Map<string, StoredFunction | StoredFolder> {
  const out = new Map<string, StoredFunction | StoredFolder>();
  const place = new Map(state.running.map((name, i) => [name, i]));
  for (const [name, history] of Object.entries(state.history)) {
    const i = place.get(name);
    out.set(FN + name, i === undefined ? { history } : { history, running: i });
  }
  const folder: StoredFolder = { folder: state.folder };
  if (state.refused !== undefined) folder.refused = state.refused;
  out.set(FOLDER, folder);
  return out;
}

function decode(stored: Map<string, unknown>): DeployState {
  const folder = stored.get(FOLDER) as StoredFolder | undefined;
  const state: DeployState = { history: {}, running: [], folder: folder?.folder ?? null };
  if (folder?.refused !== undefined) state.refused = folder.refused;
  const running: [number, string][] = [];
  for (const [key, value] of stored) {
    if (!key.startsWith(FN)) continue;
    const name = key.slice(FN.length);
    const f = value as StoredFunction;
    state.history[name] = f.history;
    if (f.running !== undefined) running.push([f.running, name]);
  }
  state.running = running.sort((a, b) => a[0] - b[0]).map(([, name]) => name);
  return state;
}
