// Typos that would silently do nothing: POST /v1/events says how many functions each event was
// routed to, and a pattern key that no event carries is warned about when the function loads.
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fnSource, post, startTestEddy, tempApp } from "./helpers.js";

const app = tempApp({
  "functions/paid.ts": fnSource("paid", { type: ["order.paid"] }),
  "functions/big.ts": fnSource("big", { type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } }),
  "functions/typo.ts": fnSource("typo", { typ: ["order.paid"] }),
  "functions/lambda-habit.ts": fnSource("lambda-habit", { "detail-type": ["order.paid"] }),
  "functions/tenant.ts": fnSource("tenant", { type: ["order.paid"], tenant: ["acme"] }),
});
const dataDir = join(app.dir, "data");
afterAll(() => app.cleanup());

const event = (id: string, type: string, extra: Record<string, unknown> = {}) => ({
  specversion: "1.0",
  id,
  source: "/t",
  type,
  ...extra,
});

describe("routing feedback", () => {
  it("warns at load about pattern keys no event carries; an extension seen on events stops the warning", async () => {
    const eddy = await startTestEddy(app.dir, { dataDir });
    try {
      const warnings = Object.fromEntries(eddy.warnings.map((w) => [w.file, w.message]));
      expect(Object.keys(warnings).sort()).toEqual([
        "functions/lambda-habit.ts",
        "functions/tenant.ts",
        "functions/typo.ts",
      ]);
      expect(warnings["functions/typo.ts"]).toBe(
        'function typo: triggers[0]: pattern key "typ" is neither a CloudEvents attribute nor an extension seen on this app\'s events, so the trigger matches only events that carry it (did you mean "type"?); fields of the payload go under "data"',
      );
      expect(warnings["functions/lambda-habit.ts"]).toContain('"detail-type"');
      expect(warnings["functions/lambda-habit.ts"]).toContain('(did you mean "type"?)');
      // Not a typo: an extension of the app's events that has not been seen yet.
      expect(warnings["functions/tenant.ts"]).toContain('pattern key "tenant"');
      // They still load and run: a warning is not a refusal.
      expect(eddy.engine.functions().map((f) => f.name)).toContain("typo");

      // Once an event carrying it arrived, the extension is known, also after a restart.
      const sent = await post(`${eddy.url}/v1/events`, event("t1", "order.paid", { tenant: "acme" }));
      expect(sent).toMatchObject({ status: 202, body: { results: [{ status: "accepted", routed: 2 }] } });
    } finally {
      await eddy.close();
    }
    const again = await startTestEddy(app.dir, { dataDir });
    try {
      expect(again.warnings.map((w) => w.file).sort()).toEqual([
        "functions/lambda-habit.ts",
        "functions/typo.ts",
      ]);
    } finally {
      await again.close();
    }
  });

  it('POST /v1/events answers "routed": the functions each accepted event was routed to', async () => {
    const eddy = await startTestEddy(app.dir, { dataDir: join(app.dir, "data2") });
    try {
      const one = await post(`${eddy.url}/v1/events`, event("r1", "order.paid", { data: { total: 500 } }));
      expect(one).toMatchObject({ status: 202, body: { results: [{ status: "accepted", routed: 2 }] } });
      const batch = await post(
        `${eddy.url}/v1/events`,
        [event("r2", "order.paid"), event("r3", "order.nobody"), event("r1", "order.paid")],
        { "content-type": "application/cloudevents-batch+json" },
      );
      expect(batch.status).toBe(202);
      expect(batch.body.results).toEqual([
        expect.objectContaining({ id: "r2", status: "accepted", routed: 1 }),
        expect.objectContaining({ id: "r3", status: "accepted", routed: 0 }),
        expect.objectContaining({ id: "r1", status: "duplicate", routed: 0 }),
      ]);
    } finally {
      await eddy.close();
    }
  });
});
