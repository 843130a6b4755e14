// Every attempt is metered, including synchronous HTTP requests, whose successful ones keep no
// record by default: GET /v1/usage and /metrics count them as they count event attempts.
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { getJson, startTestEddy, tempApp, waitFor } from "./helpers.js";

const app = tempApp({
  "functions/hello.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "hello", memoryMb: 128, triggers: [on.http("GET /hello", { public: true })] },
  async (req) => (new URL(req.url).searchParams.has("fail") ? Promise.reject(new Error("no")) : { hello: 1 }),
);
`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
  expect(eddy.failures).toEqual([]);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

interface Usage {
  functions: { fn: string; invocations: number; billedMs: number; gbSeconds: number; cost: number }[];
}

async function invocationsMetric(): Promise<Record<string, number>> {
  const families = parsePrometheus(await (await fetch(`${eddy.url}/metrics`)).text());
  const family = families.find((f) => f.name === "eddy_invocations_total");
  const out: Record<string, number> = {};
  for (const m of family?.metrics ?? []) {
    if (m.labels?.function === "hello") out[`${m.labels.status} ${m.labels.outcome}`] = Number(m.value);
  }
  return out;
}

describe("metering of synchronous HTTP requests", () => {
  it("counts every request in /v1/usage and eddy_invocations_total, recorded or not", async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${eddy.url}/hello`)).status).toBe(200);
    expect((await fetch(`${eddy.url}/hello?fail`)).status).toBe(502);

    // The metrics are updated before the response goes out (successes) or once the failure's
    // record is stored: wait for the stored one only.
    const metric = await waitFor(async () => {
      const m = await invocationsMetric();
      return m["failed ack"] === 1 && m;
    }, "the failed request's record");
    expect(metric).toEqual({ "succeeded ack": 5, "failed ack": 1 });

    const usage = await getJson<Usage>(`${eddy.url}/v1/usage?since=1h&function=hello`);
    const [row] = usage.functions;
    expect(row).toMatchObject({ fn: "hello", invocations: 6 });
    expect(row!.billedMs).toBeGreaterThanOrEqual(6);
    expect(row!.gbSeconds).toBeCloseTo((row!.billedMs / 1000) * (128 / 1024), 9);
    expect(row!.cost).toBeGreaterThan(0);
  });
});
