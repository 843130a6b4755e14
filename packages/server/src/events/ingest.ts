import type { CloudEvent } from "eddy";
import type { AppendEntry, EventLog } from "../backends/types.js";
import type { Router } from "../router/router.js";
import type { EventLimits, Refusal } from "./envelope.js";
import { checkEvent, isRefusal } from "./envelope.js";

/** The result of one candidate event. */
export type IngestResult =
  | { status: "accepted" | "duplicate"; id: string; source: string; deliveries: number }
  | { status: "rejected"; refusal: Refusal; id?: string; source?: string };

/** Options of the ingest pipeline. */
export interface IngestOptions extends EventLimits {
  /** A repeat of source+id inside this window is accepted once. Default 24 h. */
  dedupWindowMs: number;
}

/**
 * The ingest pipeline: validate → route → durable append (with the routed deliveries, one write).
 * Every way in (HTTP, SDK, CLI, `ctx.emit`) goes through here or through {@link Ingestor.prepare}.
 */
export class Ingestor {
  readonly #log: EventLog;
  readonly #router: Router;
  readonly #options: IngestOptions;
  readonly #onAppended: (functions: Iterable<string>) => void;

  /** @param onAppended told which functions got new deliveries, after they are durable. */
  constructor(
    log: EventLog,
    router: Router,
    options: IngestOptions,
    onAppended: (fns: Iterable<string>) => void,
  ) {
    this.#log = log;
    this.#router = router;
    this.#options = options;
    this.#onAppended = onAppended;
  }

  get options(): IngestOptions {
    return this.#options;
  }

  /**
   * Ingests candidates; resolves after the accepted ones are durable. Refused candidates are
   * reported, never stored; they do not affect the others.
   */
  async ingest(candidates: unknown[]): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array(candidates.length);
    const entries: AppendEntry[] = [];
    const positions: number[] = [];
    candidates.forEach((value, i) => {
      const checked = checkEvent(value, this.#options);
      if (isRefusal(checked)) {
        results[i] = { status: "rejected", refusal: checked, ...identity(value) };
        return;
      }
      entries.push(this.#entry(checked.event, checked.dedupKey));
      positions.push(i);
    });
    if (entries.length > 0) {
      const appended = await this.#log.append(entries, this.#options);
      this.notify(entries, appended);
      appended.forEach((r, k) => {
        const e = entries[k]!;
        results[positions[k]!] = {
          status: r.status,
          id: e.event.id,
          source: e.event.source,
          deliveries: r.status === "accepted" ? e.deliveries.length : 0,
        };
      });
    }
    return results;
  }

  /**
   * Validates and routes events without storing them: for emits, which are stored together with
   * the ack of the attempt that emitted them. Throws on an invalid event.
   */
  prepare(events: CloudEvent[]): AppendEntry[] {
    return events.map((value) => {
      const checked = checkEvent(value, this.#options);
      if (isRefusal(checked)) throw new Error(`emitted event refused: ${checked.detail}`);
      return this.#entry(checked.event, checked.dedupKey);
    });
  }

  /** Wakes the dispatchers of functions that got deliveries from newly accepted entries. */
  notify(entries: AppendEntry[], appended: { status: string }[]): void {
    const fns = new Set<string>();
    appended.forEach((r, k) => {
      if (r.status === "accepted") for (const fn of entries[k]!.deliveries) fns.add(fn);
    });
    if (fns.size > 0) this.#onAppended(fns);
  }

  #entry(event: CloudEvent, key: string): AppendEntry {
    return { event, dedupKey: key, deliveries: this.#router.route(event) };
  }
}

function identity(value: unknown): { id?: string; source?: string } {
  if (typeof value !== "object" || value === null) return {};
  const v = value as Record<string, unknown>;
  const out: { id?: string; source?: string } = {};
  if (typeof v.id === "string") out.id = v.id;
  if (typeof v.source === "string") out.source = v.source;
  return out;
}
