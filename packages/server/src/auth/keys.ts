import type { ApiKeyView } from "eddy";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Broadcast, KeyValue } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import { realClock } from "../clock/clock.js";
import type { Principal } from "./scopes.js";
import { checkScopes } from "./scopes.js";
import { InvalidRequestError, WriteConflictError } from "../errors/http.js";

/** An API key as listed: never its secret, nor the secret's hash. */
export type { ApiKeyView };

interface StoredKey extends ApiKeyView {
  /** SHA-256 of the secret, hex. */
  hash: string;
}

interface KeyDoc {
  keys: Record<string, StoredKey>;
}

const NS = "eddy:auth";
const DOC = "api-keys";
/**
 * How long a node trusts its copy of the keys. A change is also broadcast to the other nodes of a
 * cluster, which then drop their copy at once; this bounds it when a broadcast is missed.
 */
const CACHE_MS = 5_000;
/** A token naming an unknown key makes the node look again, at most this often. */
const MISS_RELOAD_MS = 1_000;
const KEYS_CHANGED = "keys.changed";
const TOKEN = /^eddy_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * API keys in the backend's key-value store, all in one document updated by compare-and-set (a
 * deployment has tens of keys, not millions). A key is `eddy_<id>_<secret>`: the id finds it, the
 * secret is stored only as its SHA-256 (a random 256-bit secret needs no slow hash: there is
 * nothing to brute-force), compared in constant time.
 */
export class KeyStore {
  readonly #kv: KeyValue;
  #cache: { doc: KeyDoc; at: number } | undefined;
  #loading: Promise<KeyDoc> | undefined;

  readonly #peers: Broadcast | undefined;

  readonly #clock: Clock;

  /**
   * @param peers the backend's broadcast, to tell other nodes when keys change (cluster).
   * @param clock where key expiry and this node's cache of the keys read the time.
   */
  constructor(kv: KeyValue, peers?: Broadcast, clock: Clock = realClock) {
    this.#kv = kv;
    this.#peers = peers;
    this.#clock = clock;
    peers?.listen(KEYS_CHANGED, () => (this.#cache = undefined));
  }

  /**
   * Makes a key; the secret is in the returned `token` and nowhere else.
   *
   * @example
   * const { token } = await keys.create({ name: "ci", scopes: ["events:publish"] });
   */
  async create(input: {
    name: string;
    scopes: unknown;
    expiresInMs?: number;
  }): Promise<{ key: ApiKeyView; token: string }> {
    if (typeof input.name !== "string" || !/^[\x20-\x7e]{1,100}$/.test(input.name)) {
      throw new InvalidRequestError(
        `name must be 1-100 printable characters, got ${JSON.stringify(input.name)}`,
      );
    }
    const scopes = checkScopes(input.scopes);
    const id = randomBytes(6).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const key: StoredKey = {
      id,
      name: input.name,
      scopes,
      createdAt: this.#clock.now(),
      hash: sha256(secret),
    };
    if (input.expiresInMs !== undefined) key.expiresAt = key.createdAt + input.expiresInMs;
    await this.#update((doc) => (doc.keys[id] = key));
    return { key: view(key), token: `eddy_${id}_${secret}` };
  }

  /** Every key, oldest first. */
  async list(): Promise<ApiKeyView[]> {
    const doc = await this.#load(true);
    return Object.values(doc.keys)
      .sort((a, b) => a.createdAt - b.createdAt)
      .map(view);
  }

  /** Deletes a key; resolves whether it existed. Takes effect at once on this node. */
  async revoke(id: string): Promise<boolean> {
    let found = false;
    await this.#update((doc) => {
      found = id in doc.keys;
      delete doc.keys[id];
    });
    return found;
  }

  /** True once any key exists. */
  async any(): Promise<boolean> {
    return Object.keys((await this.#load(false)).keys).length > 0;
  }

  /** The principal of a token, or undefined if it is not a live key of this server. */
  async verify(token: string): Promise<Principal | undefined> {
    const m = TOKEN.exec(token);
    if (!m) return undefined;
    let doc = await this.#load(false);
    if (!doc.keys[m[1]!] && this.#clock.now() - (this.#cache?.at ?? 0) > MISS_RELOAD_MS)
      doc = await this.#load(true);
    const key = doc.keys[m[1]!];
    if (!key || (key.expiresAt !== undefined && key.expiresAt <= this.#clock.now())) return undefined;
    const ok = timingSafeEqual(Buffer.from(sha256(m[2]!), "hex"), Buffer.from(key.hash, "hex"));
    return ok ? { id: `key:${key.id}`, scopes: new Set(key.scopes) } : undefined;
  }

  async #load(fresh: boolean): Promise<KeyDoc> {
    const c = this.#cache;
    if (!fresh && c && this.#clock.now() - c.at < CACHE_MS) return c.doc;
    this.#loading ??= this.#kv
      .get(NS, DOC)
      .then((entry) => {
        const doc = (entry?.value as KeyDoc | undefined) ?? { keys: {} };
        this.#cache = { doc, at: this.#clock.now() };
        return doc;
      })
      .finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #update(change: (doc: KeyDoc) => void): Promise<void> {
    for (let i = 0; i < 20; i++) {
      const entry = await this.#kv.get(NS, DOC);
      const doc: KeyDoc = structuredClone((entry?.value as KeyDoc | undefined) ?? { keys: {} });
      change(doc);
      if ((await this.#kv.set(NS, DOC, doc, { ifVersion: entry?.version ?? 0 })) !== undefined) {
        this.#cache = { doc, at: this.#clock.now() };
        this.#peers?.send(KEYS_CHANGED, {});
        return;
      }
    }
    throw new WriteConflictError(
      "[auth] the key store is changing too fast: 20 concurrent writes in a row; retry",
    );
  }
}

function view({ hash: _hash, ...key }: StoredKey): ApiKeyView {
  return key;
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
