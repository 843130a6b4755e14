import type { InvocationRecord, MeteredUsage, Records } from "../backends/types.js";
import type { Logger } from "./logger.js";

const MINUTE_MS = 60_000;

/**
 * Meters attempts that keep no record (successful synchronous HTTP requests, unless the gateway
 * records them): their usage is added up in memory per function and minute and written to the
 * backend's {@link Records.meter} every `intervalMs` (and at `flush`), one small write however many
 * requests, instead of a durable record each. A crash loses at most the last interval's usage.
 *
 * @example
 * const meter = new UsageMeter(backend.records, log); meter.add(rec); await meter.flush();
 */
export class UsageMeter {
  readonly #records: Records;
  readonly #log: Logger;
  readonly #timer: NodeJS.Timeout;
  #pending = new Map<string, MeteredUsage>();
  #writing: Promise<void> = Promise.resolve();

  constructor(records: Records, log: Logger, intervalMs = 1_000) {
    this.#records = records;
    this.#log = log;
    this.#timer = setInterval(() => void this.flush(), intervalMs);
    this.#timer.unref();
  }

  /** Counts one attempt that ran, as its record would have been counted. */
  add(rec: InvocationRecord): void {
    if (rec.status === "skipped") return;
    const billedMs = rec.billedMs ?? 0;
    this.#merge({
      fn: rec.fn,
      minute: Math.floor(rec.startedAt / MINUTE_MS) * MINUTE_MS,
      invocations: 1,
      billedMs,
      mbMs: billedMs * (rec.memoryMb ?? 0),
    });
  }

  /** Writes what was counted so far; resolves once it (and any earlier write) is stored. */
  flush(): Promise<void> {
    const rows = [...this.#pending.values()];
    this.#pending = new Map();
    this.#writing = this.#writing.then(async () => {
      if (rows.length === 0) return;
      try {
        await this.#records.meter(rows);
      } catch (err) {
        // Kept for the next flush rather than lost.
        for (const r of rows) this.#merge(r);
        this.#log.warn({ err }, "could not store metered usage; trying again");
      }
    });
    return this.#writing;
  }

  /** Stops the interval and writes what is left. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }

  #merge(r: MeteredUsage): void {
    const key = `${r.fn}\u0000${r.minute}`;
    const cur = this.#pending.get(key);
    if (!cur) return void this.#pending.set(key, { ...r });
    cur.invocations += r.invocations;
    cur.billedMs += r.billedMs;
    cur.mbMs += r.mbMs;
  }
}
