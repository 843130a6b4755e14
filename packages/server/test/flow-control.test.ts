import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import {
  advanceWhenArmed,
  fnSource,
  invocations,
  post,
  startGate,
  startTestEddy,
  tempApp,
  testClock,
  waitFor,
} from "./helpers.js";
import type { Gate, Invocation } from "./helpers.js";

// Each function logs when it starts and ends, and what it got. An event with data.gate waits at
// the test's gate (see startGate) until the test lets it go on.
const trace = (extra = "") =>
  `const t0 = Date.now();
   if (event.data.gate) await fetch(event.data.gate + "?k=" + event.data.gateKey);
   ${extra} ctx.log.info("ran", { id: event.id, data: event.data, t0, t1: Date.now() });`;
const app = tempApp({
  "functions/once.ts": fnSource(
    "once",
    { type: ["idem"] },
    `if (event.data.failFirst && ctx.invocation.attempt === 1) throw new Error("first attempt fails"); ${trace()}`,
    `idempotencyKey: "event.data.orderId", retries: { maxAttempts: 3, backoff: { initial: "50ms", jitter: "none" } }`,
  ),
  "functions/per-key.ts": fnSource(
    "per-key",
    { type: ["perkey"] },
    trace(`await new Promise((r) => setTimeout(r, 50));`),
    `concurrency: { max: 10, key: "event.data.k", perKey: 1 }`,
  ),
  "functions/throttled.ts": fnSource(
    "throttled",
    { type: ["throttle"] },
    trace(),
    `throttle: { limit: 4, period: "1s" }`,
  ),
  "functions/limited.ts": fnSource(
    "limited",
    { type: ["ratelimit"] },
    trace(),
    `rateLimit: { limit: 2, period: "1m" }`,
  ),
  "functions/debounced.ts": fnSource(
    "debounced",
    { type: ["debounce"] },
    trace(),
    `debounce: { period: "300ms", key: "event.data.k" }`,
  ),
  "functions/batched.ts": `import { defineBatchFunction, on } from "eddy";
export default defineBatchFunction(
  { name: "batched", triggers: [on.event({ type: ["batch"] })], batch: { maxSize: 3, timeout: "300ms" } },
  async (events, ctx) => { ctx.log.info("ran", { ids: events.map((e) => e.id) }); },
);
`,
  "functions/prioritized.ts": fnSource(
    "prioritized",
    { type: ["prio"] },
    trace(`await new Promise((r) => setTimeout(r, 5));`),
    `concurrency: { max: 1 }, priority: { run: "event.data.p" }`,
  ),
  "functions/cancellable.ts": fnSource(
    "cancellable",
    { type: ["order.placed"] },
    trace(`await new Promise((r) => setTimeout(r, 5));`),
    `concurrency: { max: 1 }, cancelOn: [{ event: "order.cancelled", match: "data.orderId" }]`,
  ),
});
let eddy: RunningEddy;
let url: string;
let gate: Gate;
// Backoff, throttle, debounce and batch windows are waited for on it (on the cluster, real time:
// see testClock). The handlers' own times (t0, t1) are real: a sandbox keeps its clock.
const clock = testClock();

beforeAll(async () => {
  gate = await startGate();
  eddy = await startTestEddy(app.dir, { clock });
  url = eddy.url;
  expect(eddy.failures).toEqual([]);
});
afterAll(async () => {
  await gate?.close();
  await eddy?.close();
  app.cleanup();
});

let n = 0;
async function send(type: string, data: unknown, id = `${type}-${++n}`) {
  const res = await post(`${url}/v1/events`, { specversion: "1.0", id, source: "/flow", type, data });
  expect(res.status).toBe(202);
  return id;
}
async function sendBatch(events: { type: string; data: unknown; id?: string }[]) {
  const body = events.map((e) => ({
    specversion: "1.0",
    id: e.id ?? `${e.type}-${++n}`,
    source: "/flow",
    type: e.type,
    data: e.data,
  }));
  const res = await post(`${url}/v1/events`, body, { "content-type": "application/cloudevents-batch+json" });
  expect(res.status).toBe(202);
  return body.map((b) => b.id);
}
interface Ran {
  id: string;
  data: Record<string, unknown>;
  t0: number;
  t1: number;
}
const ran = (list: Invocation[]) =>
  list
    .filter((i) => i.status === "succeeded")
    .map((i) => i.logs[0]!.fields as unknown as Ran)
    .sort((a, b) => a.t0 - b.t0);
/** Resolves once no delivery of `fn` is queued or leased: nothing more of it can run. */
const drained = (fn: string) =>
  waitFor(async () => {
    const c = await eddy.engine.backend.queue.counts(fn);
    return c.ready === 0 && c.leased === 0;
  }, `nothing left queued for ${fn}`);

describe("idempotency", () => {
  it("runs at most once successfully per key; later events with the key are skipped", async () => {
    await send("idem", { orderId: "o-1" });
    await waitFor(async () => ran(await invocations(url, "once")).length === 1, "first run");
    await send("idem", { orderId: "o-1" });
    await send("idem", { orderId: "o-2" });
    const all = await waitFor(async () => {
      const l = await invocations(url, "once");
      return l.length === 3 && l;
    }, "three records");
    expect(all.map((i) => i.status).sort()).toEqual(["skipped", "succeeded", "succeeded"]);
    const skipped = all.find((i) => i.status === "skipped") as Invocation & { skipReason: string };
    expect(skipped.skipReason).toMatch(/idempotencyKey "o-1" already succeeded/);
  });

  it("a failed attempt does not use the key up", async () => {
    await send("idem", { orderId: "o-3", failFirst: true });
    await waitFor(
      async () => (await invocations(url, "once")).some((i) => i.status === "failed"),
      "the first attempt to fail",
    );
    await advanceWhenArmed(clock, 50);
    await waitFor(
      async () =>
        ran(await invocations(url, "once")).some((r) => (r.data as { orderId: string }).orderId === "o-3"),
      "the retry to succeed",
    );
  });
});

describe("flow control", () => {
  it("concurrency per key: one at a time per key, keys in parallel", async () => {
    // Every run of a key waits at the gate until the test releases that key: if the keys ran
    // one after the other, the second key would never arrive while the first is held.
    const at = (k: string) => ({ k, gate: gate.url, gateKey: `perkey-${k}` });
    await sendBatch([1, 2, 3].flatMap(() => [at("a"), at("b")].map((data) => ({ type: "perkey", data }))));
    await Promise.all([gate.arrived("perkey-a"), gate.arrived("perkey-b")]);
    gate.release("perkey-a");
    gate.release("perkey-b");
    const runs = await waitFor(async () => {
      const r = ran(await invocations(url, "per-key"));
      return r.length === 6 && r;
    }, "six runs");
    for (const k of ["a", "b"]) {
      const mine = runs.filter((r) => r.data.k === k);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.t0).toBeGreaterThanOrEqual(mine[i - 1]!.t1);
    }
    const a = runs.filter((r) => r.data.k === "a");
    const b = runs.filter((r) => r.data.k === "b");
    // The two keys ran in parallel: some run of "a" overlapped some run of "b".
    expect(a.some((x) => b.some((y) => x.t0 < y.t1 && y.t0 < x.t1))).toBe(true);
  });

  it("throttle: the excess waits, starts are spread at the rate", async () => {
    const succeeded = async () =>
      (await invocations(url, "throttled")).filter((i) => i.status === "succeeded");
    await sendBatch(Array.from({ length: 6 }, () => ({ type: "throttle", data: {} })));
    // 4 per second with no burst: one admission now, then one every 250 ms.
    for (let n = 1; clock && n < 6; n++) {
      await waitFor(async () => (await succeeded()).length === n, `throttled run ${n}`);
      await advanceWhenArmed(clock, 250);
    }
    const runs = await waitFor(async () => {
      const r = await succeeded();
      return r.length === 6 && r;
    }, "six throttled runs");
    // Measured when each attempt was admitted, not in the handler: the first one's cold start
    // would shorten the span between the handlers' starts.
    const starts = runs.map((r) => r.startedAt).sort((x, y) => x - y);
    if (clock) expect(starts.map((t) => t - starts[0]!)).toEqual([0, 250, 500, 750, 1000, 1250]);
    else expect(starts[5]! - starts[0]!).toBeGreaterThanOrEqual(5 * 250 - 30);
  });

  it("rate limit: the excess is dropped and recorded as skipped", async () => {
    await sendBatch(Array.from({ length: 5 }, () => ({ type: "ratelimit", data: {} })));
    const all = await waitFor(async () => {
      const l = await invocations(url, "limited");
      return l.length === 5 && l;
    }, "five records");
    expect(all.filter((i) => i.status === "succeeded")).toHaveLength(2);
    const skipped = all.filter((i) => i.status === "skipped") as (Invocation & { skipReason: string })[];
    expect(skipped).toHaveLength(3);
    expect(skipped[0]!.skipReason).toMatch(/^rateLimit/);
  });

  it("debounce: runs once per key with the last event, after the quiet period", async () => {
    await send("debounce", { k: "x", v: 1 });
    await send("debounce", { k: "x", v: 2 });
    await send("debounce", { k: "y", v: 1 });
    await send("debounce", { k: "x", v: 3 });
    if (clock) {
      // Quiet for less than the period: nothing runs yet.
      await clock.advance(299);
      expect(await invocations(url, "debounced")).toEqual([]);
      await advanceWhenArmed(clock, 1);
    }
    const runs = await waitFor(async () => {
      const r = ran(await invocations(url, "debounced"));
      return r.length === 2 && r;
    }, "two debounced runs");
    await drained("debounced");
    expect(ran(await invocations(url, "debounced"))).toHaveLength(2);
    expect(runs.map((r) => `${r.data.k}${r.data.v}`).sort()).toEqual(["x3", "y1"]);
  });

  it("batching: up to maxSize events per run, the rest after the timeout", async () => {
    const ids = await sendBatch(Array.from({ length: 7 }, () => ({ type: "batch", data: {} })));
    const ranIds = async () =>
      (await invocations(url, "batched")).flatMap((i) => (i.logs[0]!.fields as { ids: string[] }).ids);
    if (clock) {
      // Two full batches at once; the seventh event waits out the batch window.
      await waitFor(async () => (await ranIds()).length === 6, "two full batches");
      await advanceWhenArmed(clock, 300);
    }
    const batches = await waitFor(async () => {
      const l = (await invocations(url, "batched")).map((i) => (i.logs[0]!.fields as { ids: string[] }).ids);
      return l.flat().length === 7 && l;
    }, "all seven batched");
    expect(batches.map((b) => b.length).sort()).toEqual([1, 3, 3]);
    expect(batches.flat().sort()).toEqual([...ids].sort());
  });

  it("priority: higher runs first among queued runs", async () => {
    // The first run holds the only slot (max 1) until the others are queued behind it.
    await send("prio", { p: 0, gate: gate.url, gateKey: "prio" });
    await gate.arrived("prio");
    await sendBatch([1, 5, 3].map((p) => ({ type: "prio", data: { p } })));
    gate.release("prio");
    const runs = await waitFor(async () => {
      const r = ran(await invocations(url, "prioritized"));
      return r.length === 4 && r;
    }, "four prioritized runs");
    expect(runs.map((r) => r.data.p)).toEqual([0, 5, 3, 1]);
  });

  it("cancelOn: an event cancels the queued runs with its key, not others", async () => {
    await send("order.placed", { orderId: "busy", gate: gate.url, gateKey: "cancel" });
    await gate.arrived("cancel");
    await send("order.placed", { orderId: "o-9" });
    await send("order.placed", { orderId: "o-10" });
    await send("order.cancelled", { orderId: "o-9" });
    gate.release("cancel");
    const runs = await waitFor(async () => {
      const r = ran(await invocations(url, "cancellable"));
      return r.length >= 2 && r;
    }, "the uncancelled runs");
    await drained("cancellable");
    expect(ran(await invocations(url, "cancellable")).map((r) => r.data.orderId)).toEqual(["busy", "o-10"]);
    expect(runs[0]!.data.orderId).toBe("busy");
  });

  it("cancelOn: an event and its cancellation in one batch: the run never starts", async () => {
    // The function is idle, so a lease taken together with the append would start the run at once.
    await sendBatch([
      { type: "order.placed", data: { orderId: "o-20" } },
      { type: "order.cancelled", data: { orderId: "o-20" } },
      { type: "order.placed", data: { orderId: "o-21" } },
    ]);
    await waitFor(async () => {
      const r = ran(await invocations(url, "cancellable"));
      return r.some((x) => x.data.orderId === "o-21");
    }, "the run that was not cancelled");
    await drained("cancellable");
    const orders = ran(await invocations(url, "cancellable")).map((r) => r.data.orderId);
    expect(orders).not.toContain("o-20");
  });
});
