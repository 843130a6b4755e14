/**
 * The operations of the model-based contract (model.ts), as fast-check arbitraries. An operation
 * names what it works on by small pools (two consumers, five event ids from two sources, a few
 * keys) so that random sequences collide: duplicates, stale leases, failed compares. Where it
 * needs something only the run knows (a lease taken earlier, a key's current version), it carries
 * a choice that the runner resolves against the model (`pick`, `cmp`).
 */
import fc from "fast-check";

export const FNS = ["f", "g"] as const;
export const SOURCES = ["/a", "/b"] as const;
export const IDS = ["e1", "e2", "e3", "e4", "e5"] as const;
export const TYPES = ["t.a", "t.b"] as const;
export const TRACES = ["1".repeat(32), "2".repeat(32), "3".repeat(32)] as const;
export const CANCEL_KEYS = ["c1", "c2"] as const;
export const ERROR_NAMES = ["Error", "TypeError"] as const;
export const NAMESPACES = ["a", "b"] as const;
export const KEYS = ["k", "k/1", "k/2", "kx", "x"] as const;
export const PREFIXES = ["", "k", "k/", "x", "z"] as const;
export const RECORD_IDS = ["r1", "r2", "r3", "r4"] as const;

/** An event to append, with the deliveries routed from it. */
export interface GenEntry {
  source: string;
  id: string;
  type: string;
  traceId: string;
  deliveries: { fn: string; cancelKey?: string }[];
}

/** How a write compares: not at all, with the current version (0: absent), or with a wrong one. */
export type Cmp = "none" | "current" | "stale";

/** Which dead letters an admin operation applies to. */
export type GenFilter =
  | { kind: "all" }
  | { kind: "id"; pick: number }
  | { kind: "type"; type: string }
  | { kind: "error"; name: string };

/** A key-value write of a batch (value undefined: a delete). */
export interface GenKvWrite {
  ns: string;
  key: string;
  value: number | undefined;
  cmp: Cmp;
  ttl: boolean;
}

/**
 * One operation. `soon`/`short`: the near time (a lease of a second, a retry due in one) where the
 * backend runs on a manual clock, else a far one: on real time a run must not depend on timing.
 */
export type Op =
  | { op: "append"; entries: GenEntry[] }
  | { op: "read"; pick: number; limit: number }
  | { op: "lease"; fn: string; max: number; short: boolean }
  | {
      op: "settle";
      pick: number;
      kind: "ack" | "retry" | "dead";
      soon: boolean;
      errorName: string;
      emit?: GenEntry;
    }
  | { op: "extend"; pick: number; soon: boolean }
  | { op: "release"; picks: number[]; later: boolean }
  | { op: "cancel"; fn: string; key: string }
  | { op: "counts"; fn: string }
  | { op: "nextDueAt"; fn: string }
  | { op: "deadList"; fn: string; pageSize: number }
  | { op: "deadGet"; fn: string; pick: number }
  | { op: "redrive" | "purge"; fn: string; filter: GenFilter }
  | { op: "deadCounts" }
  | { op: "kvSet"; ns: string; key: string; value: number; cmp: Cmp; ttl: boolean }
  | { op: "kvDelete"; ns: string; key: string; cmp: Cmp }
  | { op: "kvGet"; ns: string; key: string }
  | { op: "kvBatch"; writes: GenKvWrite[] }
  | { op: "kvList"; ns: string; prefix: string; pageSize: number }
  | { op: "byTrace"; traceId: string; limit: number }
  | { op: "traceOf"; id: string; source: string | undefined }
  | { op: "insert"; id: string; fn: string; status: "succeeded" | "failed"; traceId: string | undefined }
  | {
      op: "query";
      fn: string | undefined;
      status: "succeeded" | "failed" | undefined;
      traceId: string | undefined;
      limit: number;
    }
  | { op: "getRecord"; id: string }
  | { op: "advance"; ms: number };

const of = <T>(xs: readonly T[]) => fc.constantFrom(...xs);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const pick = fc.nat(1_000);
const cmp = of<Cmp>(["none", "current", "stale"]);

const genEntry: fc.Arbitrary<GenEntry> = fc.record({
  source: of(SOURCES),
  id: of(IDS),
  type: of(TYPES),
  traceId: of(TRACES),
  deliveries: fc
    .subarray([...FNS])
    .chain((fns) =>
      fc.tuple(
        ...fns.map((fn) =>
          maybe(of(CANCEL_KEYS)).map((cancelKey) => (cancelKey ? { fn, cancelKey } : { fn })),
        ),
      ),
    ),
});

const filter: fc.Arbitrary<GenFilter> = fc.oneof(
  fc.constant({ kind: "all" as const }),
  pick.map((p) => ({ kind: "id" as const, pick: p })),
  of(TYPES).map((type) => ({ kind: "type" as const, type })),
  of(ERROR_NAMES).map((name) => ({ kind: "error" as const, name })),
);

const kvWrite: fc.Arbitrary<GenKvWrite> = fc.record({
  ns: of(NAMESPACES),
  key: of(KEYS),
  value: maybe(fc.integer({ min: 0, max: 9 })),
  cmp,
  ttl: fc.boolean(),
});

/**
 * The operations, weighted towards the delivery queue. `timed`: the backend runs on a manual clock
 * the run may advance, so the near times are generated too.
 */
export function operations(timed: boolean): fc.Arbitrary<Op> {
  const near = timed ? fc.boolean() : fc.constant(false);
  const fn = of(FNS);
  const ops: fc.WeightedArbitrary<Op>[] = [
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("append" as const),
        entries: fc.array(genEntry, { minLength: 1, maxLength: 3 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("read" as const), pick, limit: fc.integer({ min: 1, max: 8 }) }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant("lease" as const),
        fn,
        max: fc.integer({ min: 1, max: 4 }),
        short: near,
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record(
        {
          op: fc.constant("settle" as const),
          pick,
          kind: of(["ack", "retry", "dead"] as const),
          soon: near,
          errorName: of(ERROR_NAMES),
          emit: genEntry,
        },
        { requiredKeys: ["op", "pick", "kind", "soon", "errorName"] },
      ),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("extend" as const), pick, soon: near }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("release" as const),
        picks: fc.array(pick, { minLength: 1, maxLength: 3 }),
        later: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("cancel" as const), fn, key: of(CANCEL_KEYS) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("counts" as const), fn }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("nextDueAt" as const), fn }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("deadList" as const),
        fn,
        pageSize: fc.integer({ min: 1, max: 3 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("deadGet" as const), fn, pick }) },
    { weight: 2, arbitrary: fc.record({ op: of(["redrive", "purge"] as const), fn, filter }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("deadCounts" as const) }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constant("kvSet" as const),
        ns: of(NAMESPACES),
        key: of(KEYS),
        value: fc.integer({ min: 0, max: 9 }),
        cmp,
        ttl: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("kvDelete" as const), ns: of(NAMESPACES), key: of(KEYS), cmp }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ op: fc.constant("kvGet" as const), ns: of(NAMESPACES), key: of(KEYS) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("kvBatch" as const),
        writes: fc.uniqueArray(kvWrite, { minLength: 1, maxLength: 3, selector: (w) => `${w.ns}/${w.key}` }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant("kvList" as const),
        ns: of(NAMESPACES),
        prefix: of(PREFIXES),
        pageSize: fc.integer({ min: 1, max: 4 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("byTrace" as const),
        traceId: of(TRACES),
        limit: fc.integer({ min: 1, max: 6 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant("traceOf" as const), id: of(IDS), source: maybe(of(SOURCES)) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("insert" as const),
        id: of(RECORD_IDS),
        fn,
        status: of(["succeeded", "failed"] as const),
        traceId: maybe(of(TRACES)),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("query" as const),
        fn: maybe(fn),
        status: maybe(of(["succeeded", "failed"] as const)),
        traceId: maybe(of(TRACES)),
        limit: fc.integer({ min: 1, max: 5 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("getRecord" as const), id: of(RECORD_IDS) }) },
  ];
  if (timed) {
    ops.push({
      weight: 3,
      arbitrary: fc.record({ op: fc.constant("advance" as const), ms: of([1, 500, 1_000, 5_000]) }),
    });
  }
  return fc.oneof(...ops);
}
