import type { KeyValue, LeasedDelivery } from "../backends/types.js";
import type { Logger } from "../observability/logger.js";
import type { DispatchTarget } from "./attempt.js";
import type { Pin } from "./pins.js";
import { mayBePinned, readPin } from "./pins.js";

/** A version other than the running one, opened to finish the deliveries pinned to it. */
export interface OpenedVersion {
  target: DispatchTarget;
  /** Aborts `ctx.signal` of its attempts in flight (the server is shutting down). */
  abortAll(reason: string): void;
  /** Stops its sandboxes (with `force`, the busy ones too). */
  close(force?: boolean): Promise<void>;
}

/** Opens a version of a function again: its bundle, its configuration, a pool that keeps none warm. */
export type OpenVersion = (name: string, pin: Pin) => Promise<OpenedVersion | undefined>;

/** Deliveries of one unit that run on the same version, and what to call when they have. */
export interface VersionGroup {
  target: DispatchTarget;
  unit: LeasedDelivery[];
  done(): void;
}

interface Entry {
  opened: Promise<OpenedVersion | undefined>;
  users: number;
  idle: NodeJS.Timeout | undefined;
}

/**
 * The versions pinned deliveries still run on (see pins.ts). A deploy swaps the running version;
 * a delivery whose earlier attempt ran on a version the deploy replaced keeps running that version,
 * opened here on demand (from its bundle in this process's data folder or the backend's shared
 * store) and closed once no attempt has used it for `idleMs`: a node holds an old version only
 * while pinned work runs on it, and can always open it again while its bundle is kept.
 */
export class PinnedVersions {
  readonly #kv: KeyValue;
  readonly #open: OpenVersion;
  readonly #idleMs: number;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  #closed = false;

  constructor(options: { kv: KeyValue; open: OpenVersion; idleMs: number; log: Logger }) {
    this.#kv = options.kv;
    this.#open = options.open;
    this.#idleMs = options.idleMs;
    this.#log = options.log;
  }

  /** True when some delivery of `unit` may be pinned (else it runs on `current`, nothing to look up). */
  static concerns(unit: LeasedDelivery[]): boolean {
    return unit.some(mayBePinned);
  }

  /**
   * Splits a leased unit by the version each delivery runs on: its pin's, else `current`. A pinned
   * version that cannot be opened any more (its bundle is gone, it no longer loads) runs on
   * `current` instead, with a warning.
   */
  async split(current: DispatchTarget, unit: LeasedDelivery[]): Promise<VersionGroup[]> {
    const pins = await Promise.all(unit.map((d) => readPin(this.#kv, current.name, d)));
    const byVersion = new Map<string, { pin: Pin; unit: LeasedDelivery[] }>();
    const onCurrent: LeasedDelivery[] = [];
    unit.forEach((d, i) => {
      const pin = pins[i];
      if (!pin || pin.version === current.version) onCurrent.push(d);
      else {
        const g = byVersion.get(pin.version) ?? { pin, unit: [] };
        g.unit.push(d);
        byVersion.set(pin.version, g);
      }
    });
    const groups: VersionGroup[] = [];
    for (const { pin, unit: pinned } of byVersion.values()) {
      const opened = await this.#acquire(current.name, pin);
      if (opened) groups.push({ target: opened, unit: pinned, done: () => this.#release(current.name, pin) });
      else {
        this.#log.warn(
          { fn: current.name, version: pin.version, running: current.version },
          "a pinned version can no longer be opened; its deliveries run on the running version",
        );
        onCurrent.push(...pinned);
      }
    }
    if (onCurrent.length > 0) groups.push({ target: current, unit: onCurrent, done: () => undefined });
    return groups;
  }

  /** Aborts `ctx.signal` of every attempt in flight on an old version. */
  abortAll(reason: string): void {
    for (const e of this.#entries.values()) void e.opened.then((o) => o?.abortAll(reason));
  }

  /** Closes every opened version. */
  async close(force = false): Promise<void> {
    this.#closed = true;
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(
      entries.map(async (e) => {
        clearTimeout(e.idle);
        await (await e.opened)?.close(force);
      }),
    );
  }

  async #acquire(name: string, pin: Pin): Promise<DispatchTarget | undefined> {
    if (this.#closed) return undefined;
    const key = `${name}@${pin.version}`;
    let e = this.#entries.get(key);
    if (!e) {
      const opened = this.#open(name, pin).catch((err: unknown) => {
        this.#log.warn({ err, fn: name, version: pin.version }, "could not open a pinned version");
        return undefined;
      });
      e = { opened, users: 0, idle: undefined };
      this.#entries.set(key, e);
    }
    e.users++;
    clearTimeout(e.idle);
    e.idle = undefined;
    const opened = await e.opened;
    if (!opened) {
      // Not cached: the next retry tries again (the shared store may be reachable by then).
      if (this.#entries.get(key) === e) this.#entries.delete(key);
      return undefined;
    }
    return opened.target;
  }

  #release(name: string, pin: Pin): void {
    const key = `${name}@${pin.version}`;
    const e = this.#entries.get(key);
    if (!e || --e.users > 0) return;
    e.idle = setTimeout(() => {
      if (this.#entries.get(key) !== e || e.users > 0) return;
      this.#entries.delete(key);
      void e.opened.then((o) => o?.close());
    }, this.#idleMs);
    e.idle.unref();
  }
}
