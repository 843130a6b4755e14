/**
 * The model-based contract: random sequences of operations (model-ops.ts) run against a backend
 * and against the reference model (../model/reference.ts), comparing every answer. It finds what
 * the example-based modules miss because nobody thought of the sequence (a lookup that ignores one
 * of its arguments, a stale token honoured after a redrive, a page that skips a key).
 *
 * Runs are bounded for the suite (`runs`); `EDDY_MODEL_RUNS` and `EDDY_MODEL_SEED` make a longer
 * or a repeated run (`npm run test:model` in packages/server). A failure prints the seed and the
 * shrunk sequence of operations.
 */
import fc from "fast-check";
import { expect, it } from "vitest";
import { ManualClock } from "../../clock/manual-clock.js";
import { ReferenceModel } from "../model/reference.js";
import type { ModelDelivery, ModelEntry, ModelLease } from "../model/reference.js";
import type { AppendEntry, AppendResult, Backend, InvocationRecord, LeasedDelivery } from "../types.js";
import type { Cmp, GenEntry, GenFilter, Op } from "./model-ops.js";
import { operations } from "./model-ops.js";

/** How the model-based contract gets backends. */
export interface ModelHarness {
  /** A backend on fresh, empty storage; on `clock` when the harness drives time (`manualClock`). */
  create(clock: ManualClock | undefined): Promise<Backend>;
  /**
   * The backend takes a manual clock: the run advances it, so leases end, retries come due and
   * keys expire during a run. Without one (cluster, on real time) every time is far away.
   */
  manualClock: boolean;
  /**
   * Also compare what the interfaces leave open but this backend answers exactly as the model
   * does: which due deliveries a lease takes (oldest due first), ready/leased counts apart (the
   * cluster counts a retry waiting on JetStream as leased), nextDueAt to the millisecond (the
   * cluster's is a time worth looking again), dead letters in id order.
   */
  exact: boolean;
  /** Runs in the suite (default 30); `EDDY_MODEL_RUNS` overrides. */
  runs?: number;
}

const DEDUP_WINDOW_MS = 600_000;
/** A time no run reaches on real time. */
const FAR_MS = 120_000;
/** A time a run on a manual clock reaches. */
const NEAR_MS = 1_000;
const RECORD_EPOCH = Date.parse("2030-01-01T00:00:00Z");

/** One run: the backend, the model, and what the operations handed out. */
interface Run {
  b: Backend;
  m: ReferenceModel;
  clock: ManualClock | undefined;
  exact: boolean;
  /** Every lease taken, stale ones too. */
  leases: { real: LeasedDelivery; ml: ModelLease }[];
  /** Every real delivery id seen, with its consumer. */
  seen: { id: string; fn: string }[];
  maxSeq: number;
  n: number;
}

const keyOf = (source: string, id: string) => `${source}\u0000${id}`;
const choose = <T>(xs: T[], pick: number): T | undefined => (xs.length ? xs[pick % xs.length] : undefined);
const far = (r: Run, near: boolean) => r.m.now() + (near ? NEAR_MS : FAR_MS);

/** A generated entry as the backend and the model take it (with a span of its own). */
function entries(r: Run, gen: GenEntry[]): { real: AppendEntry[]; model: ModelEntry[] } {
  const model = gen.map((g) => ({ ...g, spanId: (++r.n).toString(16).padStart(16, "0") }));
  const real = model.map((e): AppendEntry => ({
    event: { specversion: "1.0", id: e.id, source: e.source, type: e.type, data: { n: r.n } },
    dedupKey: keyOf(e.source, e.id),
    trace: { traceId: e.traceId, spanId: e.spanId },
    deliveries: e.deliveries,
  }));
  return { real, model };
}

/** Checks an append's results against the model and applies it. */
function appended(r: Run, model: ModelEntry[], results: AppendResult[]): void {
  expect(results).toHaveLength(model.length);
  const statuses = r.m.append(model, (i) => results[i]!.seq);
  expect(results.map((x) => x.status)).toEqual(statuses);
  results.forEach((x, i) => {
    if (x.status === "accepted") {
      expect(x.seq).toBeGreaterThan(r.maxSeq);
      r.maxSeq = x.seq;
    } else {
      expect(x.seq).toBe(r.m.recent(keyOf(model[i]!.source, model[i]!.id))!.seq);
    }
  });
}

/** The model's delivery of a real one, learning or checking its id. */
function deliveryOf(r: Run, fn: string, id: string, source: string, eventId: string): ModelDelivery {
  const d = r.m.deliveries.find((x) => x.fn === fn && x.event.key === keyOf(source, eventId));
  expect(d, `a delivery of ${fn} for ${source} ${eventId} the model does not have`).toBeDefined();
  if (d!.realId === undefined) {
    expect(r.seen.some((s) => s.id === id)).toBe(false); // ids are never reused
    d!.realId = id;
    r.seen.push({ id, fn });
  } else {
    expect(id).toBe(d!.realId);
  }
  return d!;
}

function ifVersion(r: Run, ns: string, key: string, cmp: Cmp, forDelete = false): number | undefined {
  const current = r.m.kvGet(ns, key)?.version ?? 0;
  if (cmp === "none" || (forDelete && cmp === "current" && current === 0)) return undefined;
  return cmp === "current" ? current : current === 0 ? 7 : current - 1;
}

function filterOf(r: Run, fn: string, f: GenFilter) {
  if (f.kind === "all") return {};
  if (f.kind === "type") return { eventType: f.type };
  if (f.kind === "error") return { errorName: f.name };
  const s = choose(
    r.seen.filter((x) => x.fn === fn),
    f.pick,
  );
  return { ids: [s?.id ?? "no-such-id"] };
}

function invocation(r: Run, l: LeasedDelivery, status: InvocationRecord["status"], traceId: string) {
  const rec: InvocationRecord = {
    id: `s-${++r.n}`,
    fn: l.fn,
    version: "v1",
    deliveryId: l.id,
    eventId: l.event.id,
    eventSource: l.event.source,
    eventType: l.event.type,
    attempt: l.attempt,
    status,
    outcome: status === "succeeded" ? "ack" : "retry",
    startedAt: RECORD_EPOCH + r.n,
    durationMs: 1,
    logs: [],
    trace: { traceId, spanId: (++r.n).toString(16).padStart(16, "0") },
  };
  return rec;
}

/** Runs one operation on both sides and compares. */
async function step(r: Run, o: Op): Promise<void> {
  const { b, m } = r;
  switch (o.op) {
    case "append": {
      const { real, model } = entries(r, o.entries);
      appended(r, model, await b.log.append(real, { dedupWindowMs: DEDUP_WINDOW_MS }));
      return;
    }
    case "read": {
      const after = o.pick % (m.events.length + 1) === 0 ? 0 : choose(m.events, o.pick)!.seq;
      const got = await b.log.read(after, o.limit);
      const want = m.events.filter((e) => e.seq > after).slice(0, o.limit);
      expect(got.map((e) => [e.seq, e.event.source, e.event.id])).toEqual(
        want.map((e) => [e.seq, e.source, e.id]),
      );
      return;
    }
    case "lease": {
      const candidates = m.leasable(o.fn);
      const leaseMs = o.short ? NEAR_MS : FAR_MS;
      const now = m.now();
      const got = await b.queue.lease(o.fn, o.max, leaseMs);
      expect(got).toHaveLength(Math.min(o.max, candidates.length));
      const chosen = got.map((l) => deliveryOf(r, o.fn, l.id, l.event.source, l.event.id));
      expect(new Set(chosen).size).toBe(chosen.length);
      for (const d of chosen) expect(candidates).toContain(d);
      // Oldest due first is which it takes, not the order it answers them in.
      if (r.exact) expect(new Set(chosen)).toEqual(new Set(candidates.slice(0, got.length)));
      got.forEach((l, i) => {
        const ml = m.lease(chosen[i]!, leaseMs);
        expect([l.attempt, l.redrives, l.eventSeq]).toEqual([ml.d.attempt, ml.d.redrives, ml.d.event.seq]);
        if (r.exact) expect(l.leaseUntil).toBe(now + leaseMs);
        r.leases.push({ real: l, ml });
      });
      return;
    }
    case "settle": {
      const h = choose(r.leases, o.pick);
      if (!h) return;
      const { live, held } = { live: m.live(h.ml), held: m.held(h.ml) };
      const error = { name: o.errorName, message: "model" };
      const settlement =
        o.kind === "ack"
          ? ({ kind: "ack" } as const)
          : o.kind === "retry"
            ? ({ kind: "retry", dueAt: far(r, o.soon), error } as const)
            : ({ kind: "dead", error } as const);
      const emit = o.emit && o.kind === "ack" ? entries(r, [o.emit]) : undefined;
      const rec = invocation(r, h.real, o.kind === "ack" ? "succeeded" : "failed", h.ml.d.event.traceId);
      const res = await b.queue.settle(h.real, settlement, {
        invocation: rec,
        dedupWindowMs: DEDUP_WINDOW_MS,
        ...(emit ? { emit: emit.real } : {}),
      });
      // A lease held and not ended must settle; one lost must not; one ended but not taken may.
      if (live) expect(res.settled).toBe(true);
      if (!held) expect(res.settled).toBe(false);
      m.insert({
        id: rec.id,
        fn: rec.fn,
        status: rec.status,
        startedAt: rec.startedAt,
        traceId: rec.trace!.traceId,
      });
      if (!res.settled) {
        expect(res.emitted).toEqual([]);
        return;
      }
      if (settlement.kind === "ack") m.ack(h.ml);
      else if (settlement.kind === "retry") m.retry(h.ml, settlement.dueAt, error);
      else m.dead(h.ml, error);
      if (emit) appended(r, emit.model, res.emitted);
      else expect(res.emitted).toEqual([]);
      return;
    }
    case "extend": {
      const h = choose(r.leases, o.pick);
      if (!h) return;
      const { live, held } = { live: m.live(h.ml), held: m.held(h.ml) };
      const until = far(r, o.soon);
      const ok = await b.queue.extend(h.real, until);
      if (live) expect(ok).toBe(true);
      if (!held) expect(ok).toBe(false);
      if (ok) m.extend(h.ml, until);
      return;
    }
    case "release": {
      // A lease ended but not taken again may or may not be given back: left out.
      const hs = [...new Set(o.picks.map((p) => choose(r.leases, p)!).filter((h) => h))].filter(
        (h) => m.live(h.ml) || !m.held(h.ml),
      );
      if (hs.length === 0) return;
      const dueAt = o.later ? far(r, false) : undefined;
      const live = hs.filter((h) => m.live(h.ml));
      await b.queue.release(
        hs.map((h) => h.real),
        dueAt,
      );
      for (const h of live) m.release(h.ml, dueAt);
      return;
    }
    case "cancel": {
      const got = await b.queue.cancel(o.fn, o.key);
      const want = m.cancel(o.fn, o.key);
      expect(got.map((x) => x.eventId).sort()).toEqual(want.map((d) => d.event.id).sort());
      return;
    }
    case "counts": {
      const got = await b.queue.counts(o.fn);
      const want = m.counts(o.fn);
      if (r.exact) expect(got).toEqual(want);
      else expect([got.ready + got.leased, got.dead]).toEqual([want.ready + want.leased, want.dead]);
      return;
    }
    case "nextDueAt": {
      const got = await b.queue.nextDueAt(o.fn);
      const want = m.nextDueAt(o.fn);
      if (r.exact) expect(got).toBe(want);
      else if (want !== undefined) expect(got).toBeDefined();
      return;
    }
    case "deadList": {
      const got = [];
      let afterId: string | undefined;
      for (let page = 0; page < 100; page++) {
        const list = await b.deadLetters.list(o.fn, {
          limit: o.pageSize,
          ...(afterId !== undefined ? { afterId } : {}),
        });
        expect(list.length).toBeLessThanOrEqual(o.pageSize);
        got.push(...list);
        if (list.length < o.pageSize) break;
        afterId = list.at(-1)!.id;
      }
      const want = m.of(o.fn, "dead").sort((a, b) => a.n - b.n);
      const mapped = got.map((x) => deliveryOf(r, o.fn, x.id, x.event.source, x.event.id));
      expect(new Set(mapped).size).toBe(mapped.length);
      if (r.exact) expect(mapped).toEqual(want);
      else expect(new Set(mapped)).toEqual(new Set(want));
      got.forEach((x, i) => {
        const d = mapped[i]!;
        expect([x.attempts, x.redrives, x.error.name, x.event.type]).toEqual([
          d.attempt,
          d.redrives,
          d.error!.name,
          d.event.type,
        ]);
      });
      return;
    }
    case "deadGet": {
      const s = choose(
        r.seen.filter((x) => x.fn === o.fn),
        o.pick,
      );
      if (!s) return;
      const got = await b.deadLetters.get(o.fn, s.id);
      const d = m.deliveries.find((x) => x.realId === s.id);
      if (d?.state !== "dead") expect(got).toBeUndefined();
      else expect([got?.id, got?.attempts, got?.error.name]).toEqual([s.id, d.attempt, d.error!.name]);
      return;
    }
    case "redrive":
    case "purge": {
      const f = filterOf(r, o.fn, o.filter);
      const want = m.deadMatching(o.fn, f);
      const got = await b.deadLetters[o.op](o.fn, f);
      expect(got).toBe(want.length);
      if (o.op === "redrive") m.redrive(want);
      else m.purge(want);
      return;
    }
    case "deadCounts": {
      expect(await b.deadLetters.counts()).toEqual(m.deadCounts());
      return;
    }
    case "kvSet": {
      const v = ifVersion(r, o.ns, o.key, o.cmp);
      const ttlMs = o.ttl ? (r.clock ? NEAR_MS : FAR_MS) : undefined;
      const before = m.kvGet(o.ns, o.key);
      const got = await b.kv.set(o.ns, o.key, o.value, {
        ...(v !== undefined ? { ifVersion: v } : {}),
        ...(ttlMs !== undefined ? { ttlMs } : {}),
      });
      if (!m.kvMatches(o.ns, o.key, v)) return expect(got).toBeUndefined();
      expect(got).toBeGreaterThan(before?.version ?? 0);
      m.kvPut(o.ns, o.key, o.value, got!, ttlMs);
      return;
    }
    case "kvDelete": {
      const v = ifVersion(r, o.ns, o.key, o.cmp, true);
      const want = m.kvGet(o.ns, o.key) !== undefined && m.kvMatches(o.ns, o.key, v);
      expect(await b.kv.delete(o.ns, o.key, v !== undefined ? { ifVersion: v } : {})).toBe(want);
      if (want) m.kvDelete(o.ns, o.key);
      return;
    }
    case "kvGet": {
      const got = await b.kv.get(o.ns, o.key);
      const want = m.kvGet(o.ns, o.key);
      expect(got && [got.value, got.version]).toEqual(want && [want.value, want.version]);
      if (want && r.exact) expect(got!.expiresAt).toBe(want.expiresAt);
      else if (want) expect(got!.expiresAt === undefined).toBe(want.expiresAt === undefined);
      return;
    }
    case "kvBatch": {
      const writes = o.writes.map((w) => {
        const v = ifVersion(r, w.ns, w.key, w.cmp, w.value === undefined);
        const ttlMs = w.ttl && w.value !== undefined ? (r.clock ? NEAR_MS : FAR_MS) : undefined;
        return { ...w, ifVersion: v, ttlMs };
      });
      const ok = writes.every(
        (w) =>
          m.kvMatches(w.ns, w.key, w.ifVersion) &&
          (w.ifVersion === undefined || w.value !== undefined || m.kvGet(w.ns, w.key)),
      );
      const before = writes.map((w) => m.kvGet(w.ns, w.key)?.version ?? 0);
      const got = await b.kv.batch(
        writes.map(({ ns, key, value, ifVersion: iv, ttlMs }) => ({
          ns,
          key,
          value,
          ...(iv !== undefined ? { ifVersion: iv } : {}),
          ...(ttlMs !== undefined ? { ttlMs } : {}),
        })),
      );
      if (!ok) return expect(got).toBeUndefined();
      expect(got).toHaveLength(writes.length);
      writes.forEach((w, i) => {
        if (w.value === undefined) {
          expect(got![i]).toBe(0);
          m.kvDelete(w.ns, w.key);
        } else {
          expect(got![i]).toBeGreaterThan(before[i]!);
          m.kvPut(w.ns, w.key, w.value, got![i]!, w.ttlMs);
        }
      });
      return;
    }
    case "kvList": {
      const got = [];
      let after: string | undefined;
      for (let page = 0; page < 100; page++) {
        const list = await b.kv.list(o.ns, {
          prefix: o.prefix,
          limit: o.pageSize,
          ...(after !== undefined ? { after } : {}),
        });
        expect(list.length).toBeLessThanOrEqual(o.pageSize);
        got.push(...list);
        if (list.length < o.pageSize) break;
        after = list.at(-1)!.key;
      }
      const want = m.kvKeys(o.ns, o.prefix).map((key) => ({ key, ...m.kvGet(o.ns, key)! }));
      expect(got.map((e) => [e.key, e.value, e.version])).toEqual(
        want.map((e) => [e.key, e.value, e.version]),
      );
      return;
    }
    case "byTrace": {
      const got = await b.traces.byTrace(o.traceId, o.limit);
      const want = m.byTrace(o.traceId, o.limit);
      expect(got.map((e) => [e.event.source, e.event.id, e.trace.spanId])).toEqual(
        want.map((e) => [e.source, e.id, e.spanId]),
      );
      return;
    }
    case "traceOf": {
      expect(await b.traces.traceOf(o.id, o.source)).toBe(m.traceOf(o.id, o.source));
      return;
    }
    case "insert": {
      const startedAt = RECORD_EPOCH + ++r.n;
      const rec: InvocationRecord = {
        id: o.id,
        fn: o.fn,
        version: "v1",
        deliveryId: "",
        eventId: "http",
        eventSource: "/http",
        eventType: "http.request",
        attempt: 1,
        status: o.status,
        outcome: o.status === "succeeded" ? "ack" : "retry",
        startedAt,
        durationMs: 1,
        logs: [],
        ...(o.traceId ? { trace: { traceId: o.traceId, spanId: "e".repeat(16) } } : {}),
      };
      await b.records.insert([rec]);
      m.insert({
        id: o.id,
        fn: o.fn,
        status: o.status,
        startedAt,
        ...(o.traceId ? { traceId: o.traceId } : {}),
      });
      return;
    }
    case "query": {
      const q = {
        limit: o.limit,
        ...(o.fn !== undefined ? { fn: o.fn } : {}),
        ...(o.status !== undefined ? { status: o.status } : {}),
        ...(o.traceId !== undefined ? { traceId: o.traceId } : {}),
      };
      const got = await b.records.queryInvocations(q);
      expect(got.map((x) => x.id)).toEqual(m.query(q).map((x) => x.id));
      return;
    }
    case "getRecord": {
      const got = await b.records.getInvocation(o.id);
      const want = m.records.get(o.id);
      expect(got && [got.fn, got.status, got.startedAt]).toEqual(
        want && [want.fn, want.status, want.startedAt],
      );
      return;
    }
    case "advance": {
      await r.clock!.advance(o.ms);
      return;
    }
  }
}

/** Registers the model-based contract for one backend: one test, `runs` random sequences. */
export function describeModelContract(name: string, harness: ModelHarness): void {
  const numRuns = Number(process.env.EDDY_MODEL_RUNS ?? harness.runs ?? 30);
  const seed = process.env.EDDY_MODEL_SEED !== undefined ? Number(process.env.EDDY_MODEL_SEED) : undefined;
  it(
    `backend model: ${name} answers random operation sequences as the reference model does`,
    { timeout: 60_000 + numRuns * 5_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(operations(harness.manualClock), { minLength: 5, maxLength: 50, size: "max" }),
          async (ops) => {
            const clock = harness.manualClock
              ? new ManualClock(Date.parse("2030-01-01T12:00:00Z"))
              : undefined;
            const b = await harness.create(clock);
            const now = clock ? () => clock.now() : () => Date.now();
            const r: Run = {
              b,
              m: new ReferenceModel(now, DEDUP_WINDOW_MS),
              clock,
              exact: harness.exact,
              leases: [],
              seen: [],
              maxSeq: 0,
              n: 0,
            };
            try {
              for (const [i, o] of ops.entries()) {
                try {
                  await step(r, o);
                } catch (err) {
                  throw new Error(`operation ${i} ${JSON.stringify(o)}: ${(err as Error).message}`, {
                    cause: err,
                  });
                }
              }
            } finally {
              await b.close();
            }
          },
        ),
        { numRuns, ...(seed !== undefined ? { seed } : {}) },
      );
    },
  );
}
