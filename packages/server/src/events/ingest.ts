import type { CloudEvent } from "eddy";
import type { AppendEntry, AppendResult, Backend, EventLog, LeaseCore } from "../backends/types.js";
import type { Observer } from "../observability/observer.js";
import { stampTrace } from "../observability/trace-context.js";
import type { Cancellation, Router } from "../router/router.js";
import type { Backpressure } from "./backpressure.js";
import type { EventLimits, Refusal } from "./envelope.js";
import { checkEvent, isRefusal } from "./envelope.js";
import { InvalidEmitError } from "../errors/attempt.js";

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
  readonly #queue: LeaseCore;
  readonly #router: Router;
  readonly #options: IngestOptions;
  readonly #onAppended: (consumers: Iterable<string>) => void;
  readonly #joinsWrites: boolean;
  readonly #observer: Observer | undefined;
  readonly #pressure: Backpressure | undefined;

  /**
   * @param onAppended told which consumers got new deliveries: after they are durable, or (a
   *   backend that `joinsWrites`) as they are appended, so that their leases join the same commit.
   * @param pressure refuses what the store cannot keep or run (see backpressure.ts).
   */
  constructor(
    backend: Pick<Backend, "log" | "queue" | "capabilities">,
    router: Router,
    options: IngestOptions,
    onAppended: (consumers: Iterable<string>) => void,
    observer?: Observer,
    pressure?: Backpressure,
  ) {
    this.#observer = observer;
    this.#pressure = pressure;
    this.#log = backend.log;
    this.#queue = backend.queue;
    this.#router = router;
    this.#options = options;
    this.#onAppended = onAppended;
    this.#joinsWrites = backend.capabilities.joinsWrites === true;
  }

  /** Told of every append once durable (workflows wake the runs waiting for these events). */
  afterAppend: ((entries: AppendEntry[], results: { status: string }[]) => Promise<void>) | undefined;

  get options(): IngestOptions {
    return this.#options;
  }

  /**
   * Ingests candidates; resolves after the accepted ones are durable. Refused candidates are
   * reported, never stored; they do not affect the others.
   */
  async ingest(candidates: unknown[], traceparent?: string): Promise<IngestResult[]> {
    const results: IngestResult[] = new Array(candidates.length);
    const entries: AppendEntry[] = [];
    const positions: number[] = [];
    candidates.forEach((value, i) => {
      const checked = checkEvent(value, this.#options);
      if (isRefusal(checked)) {
        this.#observer?.refused(checked.code);
        results[i] = { status: "rejected", refusal: checked, ...identity(value) };
        return;
      }
      entries.push(this.#entry(checked.event, checked.dedupKey, traceparent));
      positions.push(i);
    });
    if (this.#pressure && entries.length > 0) await this.#admit(entries, positions, results);
    if (entries.length > 0) {
      let appended: AppendResult[];
      try {
        appended = await this.#append(entries);
      } catch (err) {
        if (!this.#pressure) throw err;
        // Nothing of this append is stored: every entry of it is refused, to be sent again.
        const refusal = this.#pressure.failed(err);
        this.#observer?.refused(refusal.code);
        positions.forEach(
          (p, k) => (results[p] = { status: "rejected", refusal, ...identity(entries[k]!.event) }),
        );
        return results;
      }
      this.#pressure?.stored(
        entries.flatMap((e, k) => (appended[k]!.status === "accepted" ? e.deliveries : [])),
      );
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

  /** Refuses (and takes out of `entries`) what backpressure refuses; `positions` follow. */
  async #admit(entries: AppendEntry[], positions: number[], results: IngestResult[]): Promise<void> {
    const judge = await this.#pressure!.assess(entries.flatMap((e) => e.deliveries.map((d) => d.fn)));
    for (let k = entries.length - 1; k >= 0; k--) {
      const refusal = judge(entries[k]!.deliveries);
      if (!refusal) continue;
      this.#observer?.refused(refusal.code);
      results[positions[k]!] = { status: "rejected", refusal, ...identity(entries[k]!.event) };
      entries.splice(k, 1);
      positions.splice(k, 1);
    }
  }

  /**
   * Validates and routes events without storing them: for emits, which are stored together with
   * the ack of the attempt that emitted them. `traceparent`: the emitting attempt's span, the
   * parent of events that name none. Throws on an invalid event.
   */
  prepare(events: CloudEvent[], traceparent?: string): AppendEntry[] {
    return events.map((value) => {
      const checked = checkEvent(value, this.#options);
      if (isRefusal(checked)) throw new InvalidEmitError(`emitted event refused: ${checked.detail}`);
      return this.#entry(checked.event, checked.dedupKey, traceparent);
    });
  }

  /** Gives entries made elsewhere (queue messages) their spans, children of `traceparent` if given. */
  traced(entries: AppendEntry[], traceparent?: string): AppendEntry[] {
    if (this.#observer?.enabled !== false)
      for (const e of entries) e.trace ??= stampTrace(e.event, traceparent);
    return entries;
  }

  /** Appends entries, then does what follows an append. */
  async #append(entries: AppendEntry[]) {
    this.traced(entries);
    const start = Date.now();
    const cancels = entries.map((e) => this.#router.cancellations(e.event));
    dropCancelledInBatch(entries, cancels);
    const pending = this.#log.append(entries, this.#options);
    // On a backend that joins writes, the consumers lease now, in the append's own commit (their
    // leases see its deliveries and resolve with it). Not when an entry cancels queued runs: those
    // cancellations must apply before anything is leased.
    const early = this.#joinsWrites && cancels.every((c) => c.length === 0);
    if (early) {
      const consumers = new Set(entries.flatMap((e) => e.deliveries.map((d) => d.fn)));
      if (consumers.size > 0) this.#onAppended(consumers);
    }
    const appended = await pending;
    await this.appended(entries, appended, start, { woken: early, cancels });
    return appended;
  }

  /**
   * What follows a durable append (of ingested or emitted events): cancels the queued runs that
   * accepted events cancel (cancelOn), and wakes the consumers that got deliveries. `known`: what
   * the caller already worked out (whether it woke the consumers, each entry's cancellations).
   */
  async appended(
    entries: AppendEntry[],
    results: { status: string }[],
    start = Date.now(),
    known: { woken: boolean; cancels: Cancellation[][] } = {
      woken: false,
      cancels: entries.map((e) => this.#router.cancellations(e.event)),
    },
  ): Promise<void> {
    this.#observer?.appended(entries, results, start, Date.now());
    const consumers = new Set<string>();
    for (let k = 0; k < results.length; k++) {
      if (results[k]!.status !== "accepted") continue;
      const entry = entries[k]!;
      for (const d of entry.deliveries) consumers.add(d.fn);
      for (const c of known.cancels[k]!) await this.#queue.cancel(c.consumer, c.cancelKey);
    }
    if (consumers.size > 0 && !known.woken) this.#onAppended(consumers);
    await this.afterAppend?.(entries, results);
  }

  /** Appends prepared entries (e.g. queue messages, which are not routed) and notifies their consumers. */
  appendEntries(entries: AppendEntry[]) {
    return this.#append(entries);
  }

  #entry(event: CloudEvent, key: string, traceparent?: string): AppendEntry {
    const entry: AppendEntry = { event, dedupKey: key, deliveries: this.#router.route(event) };
    if (this.#observer?.enabled !== false) entry.trace = stampTrace(event, traceparent);
    return entry;
  }
}

/**
 * A run that a later event of the same batch cancels is never written: on a backend whose consumers
 * lease as soon as a delivery is stored (the cluster's table lane, polled by every node), it could
 * otherwise start before the cancellation that follows the append. (If the cancelling event turns
 * out to be a duplicate, its earlier copy already cancelled that key's queued runs; this one's are
 * dropped too, as if it had arrived a moment later than the copy.)
 */
function dropCancelledInBatch(entries: AppendEntry[], cancels: Cancellation[][]): void {
  for (let k = 1; k < entries.length; k++) {
    for (const c of cancels[k]!) {
      for (let j = 0; j < k; j++) {
        const e = entries[j]!;
        e.deliveries = e.deliveries.filter((d) => d.fn !== c.consumer || d.cancelKey !== c.cancelKey);
      }
    }
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
