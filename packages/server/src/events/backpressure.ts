import { statfs } from "node:fs/promises";
import type { LeaseCore, NewDelivery } from "../backends/types.js";
import type { Refusal } from "./envelope.js";

/** When ingest refuses events rather than accept more than the store can keep or run. */
export interface BackpressureOptions {
  /**
   * A function (or queue) with this many deliveries waiting or running gets no more: events routed
   * to it are refused with 429 `EDDY_BACKLOG_FULL`. Default 100,000; 0 turns the limit off.
   */
  maxBacklogPerFunction?: number;
  /** Every event is refused (429) once the backlogs add up to this. Default 1,000,000; 0: off. */
  maxBacklog?: number;
  /**
   * Every event is refused with 503 `EDDY_STORE_FULL` while the disk of `diskPath` has less free
   * space than this. Default 64 MiB; 0: off (a full disk is still refused, as a store error).
   */
  minFreeDiskBytes?: number;
  /** The data folder whose disk is watched (embedded store); none: no disk check (cluster). */
  diskPath?: string;
  /** How old the backlog counts and the disk figure may be. Default 1 s. */
  sampleMs?: number;
}

/** What backpressure reads: the backlogs, and a small write that tells whether the store writes again. */
export interface PressureSource {
  queue: LeaseCore;
  /** Resolves once a small write is durable; `/readyz` tries it while a failed write is reported. */
  probe(): Promise<unknown>;
}

/** Defaults of {@link BackpressureOptions}. */
export const BACKPRESSURE_DEFAULTS = {
  maxBacklogPerFunction: 100_000,
  maxBacklog: 1_000_000,
  minFreeDiskBytes: 64 * 1024 * 1024,
  sampleMs: 1_000,
} as const;

/** Seconds a producer is asked to wait (`Retry-After`): a backlog drains fast, a disk does not. */
const RETRY_BACKLOG_S = 1;
const RETRY_STORE_S = 5;

/** A refusal that asks the producer to come back later. */
export interface PressureRefusal extends Refusal {
  retryAfterS: number;
}

/** True for refusals that say "later", not "never" (the HTTP layer adds `Retry-After`). */
export function isPressure(r: Refusal): r is PressureRefusal {
  return typeof (r as Partial<PressureRefusal>).retryAfterS === "number";
}

interface Sample {
  n: number;
  at: number;
}

/**
 * Ingest's backpressure: it refuses what the store cannot keep or the functions cannot work off
 * instead of accepting it and failing later (a full disk, a backlog growing without bound). Three
 * conditions, each documented in docs/delivery.md:
 * - a consumer's backlog (ready + leased deliveries, `queue.counts`) at its limit refuses events
 *   routed to it (429), and all backlogs together at the total limit refuse everything (429);
 * - too little free disk under the data folder refuses everything (503);
 * - a write that failed (disk full, store unreachable) is answered 503, and the store is reported
 *   failing in `/readyz` until a write succeeds again.
 * Counts are sampled at most every `sampleMs` (asking the store per event would cost more than the
 * event); what this node accepted since a sample is added to it, so a burst cannot run past a limit
 * between two samples. Refusing happens before anything is written: a refused event is not stored,
 * and an accepted one is as durable as ever.
 */
export class Backpressure {
  readonly #queue: LeaseCore;
  readonly #probe: () => Promise<unknown>;
  readonly #perFn: number;
  readonly #total: number;
  readonly #minFree: number;
  readonly #diskPath: string | undefined;
  readonly #sampleMs: number;
  readonly #backlogs = new Map<string, Sample>();
  #refreshing: Promise<void> | undefined;
  #disk: Sample | undefined;
  #failure: { message: string; at: number } | undefined;

  constructor(source: PressureSource, options: BackpressureOptions = {}) {
    const d = BACKPRESSURE_DEFAULTS;
    this.#queue = source.queue;
    this.#probe = source.probe;
    this.#perFn = options.maxBacklogPerFunction ?? d.maxBacklogPerFunction;
    this.#total = options.maxBacklog ?? d.maxBacklog;
    this.#minFree = options.minFreeDiskBytes ?? d.minFreeDiskBytes;
    this.#diskPath = options.diskPath;
    this.#sampleMs = options.sampleMs ?? d.sampleMs;
  }

  /**
   * Brings the samples of these consumers (and the disk's) up to date, then answers a judge of
   * entries: the refusal for one routed to `deliveries`, or undefined to accept it.
   */
  async assess(
    consumers: Iterable<string>,
  ): Promise<(deliveries: NewDelivery[]) => PressureRefusal | undefined> {
    await this.#refresh(consumers);
    const general = this.#general();
    return (deliveries) => general ?? this.#ofConsumers(deliveries);
  }

  /** Counts what was appended (until the next sample shows it), and clears a reported failure. */
  stored(deliveries: NewDelivery[]): void {
    this.#failure = undefined;
    for (const d of deliveries) {
      const s = this.#backlogs.get(d.fn);
      if (s) s.n++;
    }
  }

  /** A write failed: the refusal to answer, and the failure to report until a write succeeds. */
  failed(err: unknown): PressureRefusal {
    const message = err instanceof Error ? err.message : String(err);
    this.#failure = { message, at: Date.now() };
    const full = /SQLITE_FULL|ENOSPC|disk is full|no space|insufficient (storage|resources)|maximum bytes/i;
    return full.test(`${(err as { code?: string }).code ?? ""} ${message}`)
      ? storeFull(`the store could not write the event: ${message}`)
      : {
          status: 503,
          code: "EDDY_STORE_UNAVAILABLE",
          title: "The store cannot take events now",
          detail: `the store could not write the event: ${message}; nothing was stored, send it again later`,
          retryAfterS: RETRY_STORE_S,
        };
  }

  /**
   * What `/readyz` shows: whether this node should take events, and why not. While a failed write
   * is reported, a small write tells whether the store writes again (no producer may be sending to
   * a node that is not ready, so waiting for the next event would wait forever).
   */
  async status(): Promise<{ ready: boolean; checks: Record<string, string> }> {
    await this.#refresh([]);
    if (this.#failure) {
      await this.#probe().then(
        () => (this.#failure = undefined),
        (err: unknown) => this.failed(err),
      );
    }
    const checks: Record<string, string> = {};
    if (this.#disk) checks.disk = `${Math.round(this.#disk.n / 1048576)} MiB free`;
    if (this.#failure) checks.store = `failing: ${this.#failure.message}`;
    const total = this.#sum();
    checks.backlog = `${total} deliveries` + (this.#total > 0 ? ` of ${this.#total}` : "");
    const full = [...this.#backlogs].filter(([, s]) => this.#perFn > 0 && s.n >= this.#perFn).map(([f]) => f);
    if (full.length > 0) checks.backlog += `; refusing events for ${full.join(", ")}`;
    return { ready: this.#general() === undefined && this.#failure === undefined, checks };
  }

  /** The refusing conditions, for metrics: disk, store, backlog (total), and consumers at their limit. */
  refusing(): { disk: boolean; store: boolean; backlog: boolean; consumers: string[] } {
    return {
      disk: this.#diskLow(),
      store: this.#failure !== undefined,
      backlog: this.#total > 0 && this.#sum() >= this.#total,
      consumers: [...this.#backlogs].filter(([, s]) => this.#perFn > 0 && s.n >= this.#perFn).map(([f]) => f),
    };
  }

  #general(): PressureRefusal | undefined {
    if (this.#diskLow()) {
      return storeFull(
        `the data folder's disk has ${this.#disk!.n} bytes free, under the ${this.#minFree} Eddy keeps free`,
      );
    }
    const total = this.#sum();
    if (this.#total > 0 && total >= this.#total) {
      return backlogFull(
        `${total} deliveries are waiting or running, the limit is ${this.#total} (maxBacklog)`,
      );
    }
    return undefined;
  }

  #ofConsumers(deliveries: NewDelivery[]): PressureRefusal | undefined {
    if (this.#perFn <= 0) return undefined;
    for (const d of deliveries) {
      const n = this.#backlogs.get(d.fn)?.n ?? 0;
      if (n >= this.#perFn) {
        return backlogFull(
          `${d.fn} has ${n} deliveries waiting or running, the limit is ${this.#perFn} (maxBacklogPerFunction)`,
        );
      }
    }
    return undefined;
  }

  #diskLow(): boolean {
    return this.#minFree > 0 && this.#disk !== undefined && this.#disk.n < this.#minFree;
  }

  #sum(): number {
    let n = 0;
    for (const s of this.#backlogs.values()) n += s.n;
    return n;
  }

  /** Samples what is older than `sampleMs`; one refresh at a time, which later callers share. */
  async #refresh(consumers: Iterable<string>): Promise<void> {
    const now = Date.now();
    const stale = [...new Set(consumers)].filter((fn) => !this.#fresh(this.#backlogs.get(fn), now));
    const disk = this.#diskPath !== undefined && this.#minFree > 0 && !this.#fresh(this.#disk, now);
    if (stale.length === 0 && !disk) return;
    while (this.#refreshing) await this.#refreshing;
    this.#refreshing = (async () => {
      await Promise.all<unknown>([
        ...stale.map(async (fn) => {
          const c = await this.#queue.counts(fn);
          this.#backlogs.set(fn, { n: c.ready + c.leased, at: Date.now() });
        }),
        disk ? this.#sampleDisk() : undefined,
      ]);
    })()
      // A store that cannot even count is failing; the write that follows says how (503).
      .catch((err: unknown) => void (this.#failure = { message: String(err), at: Date.now() }))
      .finally(() => (this.#refreshing = undefined));
    await this.#refreshing;
  }

  async #sampleDisk(): Promise<void> {
    const s = await statfs(this.#diskPath!);
    this.#disk = { n: s.bavail * s.bsize, at: Date.now() };
  }

  #fresh(s: Sample | undefined, now: number): boolean {
    return s !== undefined && now - s.at < this.#sampleMs;
  }
}

function backlogFull(detail: string): PressureRefusal {
  return {
    status: 429,
    code: "EDDY_BACKLOG_FULL",
    title: "Too much work is waiting",
    detail,
    retryAfterS: RETRY_BACKLOG_S,
  };
}

function storeFull(detail: string): PressureRefusal {
  return {
    status: 503,
    code: "EDDY_STORE_FULL",
    title: "The store is full",
    detail: `${detail}; nothing was stored, send it again once space is freed`,
    retryAfterS: RETRY_STORE_S,
  };
}
