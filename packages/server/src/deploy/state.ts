import type { KeyValue } from "../backends/types.js";
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

const NS = "eddy:deploy";
const KEY = "state";
/**
 * Bumped after every write of the state: a small entry whose version every process can read often
 * to learn that the state changed (cluster nodes converge on it), without reading the whole state.
 */
const HEAD = "head";
/** Versions kept per function for rollback. */
export const HISTORY_LIMIT = 20;

/**
 * The deployment state in the backend's key-value store, written with compare-and-set. Everything
 * that stores or watches deploy state goes through this class, so that storing it otherwise (per
 * function, per key) changes this file only.
 */
export class DeployStateStore {
  readonly #kv: KeyValue;
  #version = 0;

  constructor(kv: KeyValue) {
    this.#kv = kv;
  }

  async read(): Promise<DeployState> {
    const e = await this.#kv.get(NS, KEY);
    this.#version = e?.version ?? 0;
    return (e?.value as DeployState | undefined) ?? { history: {}, running: [], folder: null };
  }

  /**
   * Writes the state over the version last read. Deploys are serialized in this process; a failed
   * compare means another process wrote meanwhile, which the embedded store's lock rules out and
   * a cluster must not do silently.
   */
  async write(state: DeployState): Promise<void> {
    const v = await this.#kv.set(NS, KEY, state, { ifVersion: this.#version });
    if (v === undefined)
      throw new WriteConflictError(
        "[deploy] the deployment state was changed by another process; retry the deploy",
      );
    this.#version = v;
    await this.#kv.set(NS, HEAD, v);
  }

  /**
   * A number that changes after every write of the state by any process (0 before the first): a
   * process that saw it change reads the state again. Cheap to read often.
   */
  async revision(): Promise<number> {
    return (await this.#kv.get(NS, HEAD))?.version ?? 0;
  }
}
