// Several requests in one sandbox (concurrency.perSandbox): they run at once, each keeps its own
// console lines, and the pool fills a sandbox before starting another.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { getJson, startTestEddy, tempApp, waitFor } from "./helpers.js";

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
