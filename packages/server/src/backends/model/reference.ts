/**
 * The reference model of the backend primitives: plain in-memory state that does what the
 * interfaces in `primitives/` promise, and nothing else, for the model-based contract
 * (contract/model.ts) to compare a real backend with. It knows nothing of real ids or tokens: the
 * runner matches the real backend's answers to the model's objects by what the interfaces make
 * stable (an event's source and id, a delivery's event and consumer).
 *
 * Where a promise leaves the backend a choice (which of several due deliveries a lease takes, the
 * version a new key starts at), the runner checks the real answer is allowed and the model adopts it.
 */

/** An event the log accepted. */
export interface ModelEvent {
  /** `source` + NUL + `id`: the dedup key. */
  key: string;
  source: string;
  id: string;
  type: string;
  traceId: string;
  spanId: string;
  /** Order of acceptance (the log's order). */
  n: number;
  acceptedAt: number;
  /** The seq the real backend gave it. */
  seq: number;
}

export type DeliveryState = "ready" | "leased" | "dead";

/** A delivery: one per (event, consumer). */
export interface ModelDelivery {
  event: ModelEvent;
  fn: string;
  /** Order of creation (the tie-break of "oldest due first"). */
  n: number;
  state: DeliveryState;
  /** Ready: when it becomes due. Leased: when the lease ends. */
  due: number;
  attempt: number;
  redrives: number;
  cancelKey?: string;
  /** Bumped by every lease and every end of a lease: a handle of an older generation is stale. */
  gen: number;
  error?: { name: string; message: string };
  /** The real backend's id, once seen. */
  realId?: string;
}

/** A lease as the model hands it out: the delivery, and the generation it was leased in. */
export interface ModelLease {
  d: ModelDelivery;
  gen: number;
}

/** A key-value entry. */
export interface ModelKv {
  value: unknown;
  version: number;
  expiresAt: number | undefined;
}

/** An invocation record, as far as the model checks it. */
export interface ModelRecord {
  id: string;
  fn: string;
  status: string;
  startedAt: number;
  traceId?: string;
}

/** What the model's `append` takes for one entry. */
export interface ModelEntry {
  source: string;
  id: string;
  type: string;
  traceId: string;
  spanId: string;
  deliveries: { fn: string; cancelKey?: string }[];
}

/** The reference model. `now` is the backend's clock (a ManualClock's, or the real one). */
export class ReferenceModel {
  readonly events: ModelEvent[] = [];
  readonly deliveries: ModelDelivery[] = [];
  readonly kv = new Map<string, ModelKv>();
  readonly records = new Map<string, ModelRecord>();
  #n = 0;

  constructor(
    readonly now: () => number,
    readonly dedupWindowMs: number,
  ) {}

  // ---- log ----

  /** The event with this dedup key accepted inside the window, if any. */
  recent(key: string): ModelEvent | undefined {
    const t = this.now();
    return this.events.findLast((e) => e.key === key && t - e.acceptedAt < this.dedupWindowMs);
  }

  /**
   * Appends: an entry whose dedup key is in the window (also earlier in this call) is a duplicate
   * of that event; the others are accepted with their deliveries. `seqOf(i)` is the real seq.
   */
  append(entries: ModelEntry[], seqOf: (i: number) => number): ("accepted" | "duplicate")[] {
    return entries.map((en, i) => {
      const key = `${en.source}\u0000${en.id}`;
      if (this.recent(key)) return "duplicate";
      const event: ModelEvent = { ...en, key, n: ++this.#n, acceptedAt: this.now(), seq: seqOf(i) };
      this.events.push(event);
      for (const d of en.deliveries) {
        this.deliveries.push({
          event,
          fn: d.fn,
          n: ++this.#n,
          state: "ready",
          due: this.now(),
          attempt: 0,
          redrives: 0,
          gen: 0,
          ...(d.cancelKey !== undefined ? { cancelKey: d.cancelKey } : {}),
        });
      }
      return "accepted";
    });
  }

  // ---- lease core ----

  of(fn: string, state?: DeliveryState): ModelDelivery[] {
    return this.deliveries.filter((d) => d.fn === fn && (state === undefined || d.state === state));
  }

  /** Leasable now: ready and due, or leased with the lease ended; oldest due first. */
  leasable(fn: string): ModelDelivery[] {
    const t = this.now();
    return this.of(fn)
      .filter((d) => d.state !== "dead" && d.due <= t)
      .sort((a, b) => a.due - b.due || a.n - b.n);
  }

  lease(d: ModelDelivery, leaseMs: number): ModelLease {
    d.state = "leased";
    d.attempt++;
    d.gen++;
    d.due = this.now() + leaseMs;
    return { d, gen: d.gen };
  }

  /** Held: not settled, released or leased again since. */
  held(l: ModelLease): boolean {
    return l.d.state === "leased" && l.d.gen === l.gen && this.deliveries.includes(l.d);
  }

  /** Held and not ended: a backend must honour it. (Held but ended: it may or may not.) */
  live(l: ModelLease): boolean {
    return this.held(l) && this.now() < l.d.due;
  }

  ack(l: ModelLease): void {
    this.deliveries.splice(this.deliveries.indexOf(l.d), 1);
  }

  retry(l: ModelLease, dueAt: number, error: { name: string; message: string }): void {
    Object.assign(l.d, { state: "ready", due: dueAt, error, gen: l.d.gen + 1 });
  }

  dead(l: ModelLease, error: { name: string; message: string }): void {
    Object.assign(l.d, { state: "dead", error, gen: l.d.gen + 1 });
  }

  extend(l: ModelLease, leaseUntil: number): void {
    l.d.due = leaseUntil;
  }

  release(l: ModelLease, dueAt: number | undefined): void {
    Object.assign(l.d, {
      state: "ready",
      due: dueAt ?? this.now(),
      attempt: l.d.attempt - 1,
      gen: l.d.gen + 1,
    });
  }

  /** Drops the queued (not leased) deliveries of `fn` with the key. */
  cancel(fn: string, cancelKey: string): ModelDelivery[] {
    const dropped = this.of(fn, "ready").filter((d) => d.cancelKey === cancelKey);
    for (const d of dropped) this.deliveries.splice(this.deliveries.indexOf(d), 1);
    return dropped;
  }

  counts(fn: string) {
    return {
      ready: this.of(fn, "ready").length,
      leased: this.of(fn, "leased").length,
      dead: this.of(fn, "dead").length,
    };
  }

  nextDueAt(fn: string): number | undefined {
    const dues = this.of(fn)
      .filter((d) => d.state !== "dead")
      .map((d) => d.due);
    return dues.length === 0 ? undefined : Math.min(...dues);
  }

  // ---- dead letters ----

  /** The dead letters of `fn` a filter selects. */
  deadMatching(fn: string, f: { ids?: string[]; eventType?: string; errorName?: string }): ModelDelivery[] {
    return this.of(fn, "dead").filter(
      (d) =>
        (f.ids === undefined || (d.realId !== undefined && f.ids.includes(d.realId))) &&
        (f.eventType === undefined || d.event.type === f.eventType) &&
        (f.errorName === undefined || d.error?.name === f.errorName),
    );
  }

  redrive(list: ModelDelivery[]): void {
    for (const d of list)
      Object.assign(d, { state: "ready", due: this.now(), attempt: 0, redrives: d.redrives + 1 });
  }

  purge(list: ModelDelivery[]): void {
    for (const d of list) this.deliveries.splice(this.deliveries.indexOf(d), 1);
  }

  deadCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const d of this.deliveries) if (d.state === "dead") out[d.fn] = (out[d.fn] ?? 0) + 1;
    return out;
  }

  // ---- key-value ----

  kvGet(ns: string, key: string): ModelKv | undefined {
    const e = this.kv.get(`${ns}\u0000${key}`);
    return e && (e.expiresAt === undefined || e.expiresAt > this.now()) ? e : undefined;
  }

  /** Whether a compare holds (`ifVersion` 0: absent). */
  kvMatches(ns: string, key: string, ifVersion: number | undefined): boolean {
    return ifVersion === undefined || (this.kvGet(ns, key)?.version ?? 0) === ifVersion;
  }

  kvPut(ns: string, key: string, value: unknown, version: number, ttlMs: number | undefined): void {
    const expiresAt = ttlMs === undefined ? undefined : this.now() + ttlMs;
    this.kv.set(`${ns}\u0000${key}`, { value, version, expiresAt });
  }

  kvDelete(ns: string, key: string): void {
    this.kv.delete(`${ns}\u0000${key}`);
  }

  /** Live keys of `ns` starting with `prefix`, in UTF-8 byte order. */
  kvKeys(ns: string, prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.kv.keys()) {
      const [n, key] = k.split("\u0000") as [string, string];
      if (n === ns && key.startsWith(prefix) && this.kvGet(ns, key)) out.push(key);
    }
    return out.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  // ---- traces ----

  byTrace(traceId: string, limit: number): ModelEvent[] {
    return this.events.filter((e) => e.traceId === traceId).slice(0, limit);
  }

  /** By source + id within the window, else the newest event with the id. */
  traceOf(id: string, source?: string): string | undefined {
    const exact = source !== undefined ? this.recent(`${source}\u0000${id}`) : undefined;
    return (exact ?? this.events.findLast((e) => e.id === id))?.traceId;
  }

  // ---- records ----

  /** Stores a record unless one with its id is stored. */
  insert(r: ModelRecord): void {
    if (!this.records.has(r.id)) this.records.set(r.id, r);
  }

  /** Newest first. */
  query(q: { fn?: string; status?: string; traceId?: string; limit: number }): ModelRecord[] {
    return [...this.records.values()]
      .filter(
        (r) =>
          (q.fn === undefined || r.fn === q.fn) &&
          (q.status === undefined || r.status === q.status) &&
          (q.traceId === undefined || r.traceId === q.traceId),
      )
      .sort((a, b) => b.startedAt - a.startedAt)
      .slice(0, q.limit);
  }
}
