// Several attempts in one sandbox (concurrency.perSandbox): they run at once, each keeps its own
// console lines, and the pool fills a sandbox before starting another, also in a burst on a cold
// function.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { fnSource, getJson, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const app = tempApp({
  "functions/slow.ts": `import { defineFunction, on } from "eddy";
let active = 0;
let peak = 0;
export default defineFunction(
  { name: "slow", triggers: [on.http("GET /slow/:n", { public: true })], concurrency: { max: 2, perSandbox: 4 } },
  async (request, ctx) => {
    console.log("start", ctx.params.n);
    active++;
    peak = Math.max(peak, active);
    await new Promise((r) => setTimeout(r, 300));
    active--;
    console.log("end", ctx.params.n);
    if (ctx.params.n === "fail") throw new Error("boom");
    return { n: ctx.params.n, peak };
  },
);`,
  "functions/burst.ts": fnSource(
    "burst",
    { type: ["test.burst"] },
    "await new Promise((r) => setTimeout(r, 200));",
    "concurrency: { max: 8, perSandbox: 4 }",
  ),
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

it("runs up to perSandbox requests at once in one sandbox, and each keeps its own logs", async () => {
  await fetch(`${eddy.url}/slow/warm`); // one sandbox loaded
  const results = await Promise.all(
    ["1", "2", "3", "fail"].map(async (n) => {
      const res = await fetch(`${eddy.url}/slow/${n}`);
      return { status: res.status, body: (await res.json()) as { peak?: number } };
    }),
  );
  expect(results.map((r) => r.status)).toEqual([200, 200, 200, 502]);
  // They overlapped in one sandbox (its globals saw several at once).
  expect(Math.max(...results.map((r) => r.body.peak ?? 0))).toBeGreaterThan(1);
  const fn = await getJson<{ pool: { warm: number; busy: number } }>(`${eddy.url}/v1/functions/slow`);
  expect(fn.pool.warm + fn.pool.busy).toBe(1);
  const failed = await waitFor(async () => {
    const { invocations } = await getJson<{ invocations: { logs: { msg: string }[] }[] }>(
      `${eddy.url}/v1/invocations?function=slow&status=failed`,
    );
    return invocations[0];
  }, "the failed request's record");
  expect(failed.logs.map((l) => l.msg)).toEqual(["start fail", "end fail"]);
});

it("starts attempts ÷ perSandbox sandboxes for a burst on a cold function, not one per attempt", async () => {
  const events = Array.from({ length: 16 }, (_, i) => ({
    specversion: "1.0",
    id: `burst-${i}`,
    source: "/test",
    type: "test.burst",
  }));
  const res = await post(`${eddy.url}/v1/events`, events, {
    "content-type": "application/cloudevents-batch+json",
  });
  expect(res.status).toBe(202);
  await waitFor(
    async () => (await invocations(eddy.url, "burst")).filter((i) => i.status === "succeeded").length === 16,
    "16 burst invocations",
  );
  const fn = await getJson<{ pool: { coldStarts: { count: number } } }>(`${eddy.url}/v1/functions/burst`);
  // 8 attempts at once, 4 per sandbox: 2 sandboxes (one per attempt would be 8).
  expect(fn.pool.coldStarts.count).toBe(2);
});
