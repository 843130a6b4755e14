// Several requests in one sandbox (concurrency.perSandbox): they run at once, each keeps its own
// console lines, and the pool fills a sandbox before starting another.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { getJson, startTestEddy, tempApp, waitFor } from "./helpers.js";

const app = tempApp({
  "functions/slow.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "slow", triggers: [on.http("GET /slow/:n", { public: true })], concurrency: { max: 2, perSandbox: 4 } },
  async (request, ctx) => {
    console.log("start", ctx.params.n);
    await new Promise((r) => setTimeout(r, 300));
    console.log("end", ctx.params.n);
    if (ctx.params.n === "fail") throw new Error("boom");
    return { n: ctx.params.n };
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
  const t0 = Date.now();
  const results = await Promise.all(
    ["1", "2", "3", "fail"].map(async (n) => (await fetch(`${eddy.url}/slow/${n}`)).status),
  );
  expect(results).toEqual([200, 200, 200, 502]);
  // Four at once in one sandbox: about one handler's time, not four.
  expect(Date.now() - t0).toBeLessThan(1_100);
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
