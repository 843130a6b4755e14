import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { fnSource, getJson, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

// `stuck` takes one event at a time and never finishes one, so its backlog only grows.
const app = tempApp({
  "functions/stuck.ts": fnSource(
    "stuck",
    { type: ["stuck"] },
    `await new Promise(() => undefined);`,
    `concurrency: { max: 1 }, timeout: "60s"`,
  ),
  "functions/free.ts": fnSource("free", { type: ["free"] }),
});
const LIMIT = 3;
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { backpressure: { maxBacklogPerFunction: LIMIT } });
});
afterAll(async () => {
  await eddy?.close(0);
  app.cleanup();
});

const event = (type: string, id: string) => ({ specversion: "1.0", id, source: "/bp", type, data: {} });

describe("ingest backpressure: backlog limits", () => {
  it("refuses events for a function at its backlog limit with 429 and Retry-After, and only those", async () => {
    for (let i = 0; i < LIMIT; i++) {
      expect((await post(`${eddy.url}/v1/events`, event("stuck", `s-${i}`))).status).toBe(202);
    }
    const res = await fetch(`${eddy.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json" },
      body: JSON.stringify(event("stuck", "s-over")),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("EDDY_BACKLOG_FULL");
    expect(body.detail).toContain("stuck");

    // Another function's events are taken; in a batch, only the events routed to `stuck` are refused.
    expect((await post(`${eddy.url}/v1/events`, event("free", "f-1"))).status).toBe(202);
    const batch = await post(`${eddy.url}/v1/events`, [event("free", "f-2"), event("stuck", "s-b")], {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(batch.status).toBe(207);
    const items = batch.body.results as { status: string; problem?: { code: string; status: number } }[];
    expect(items.map((i) => i.status)).toEqual(["accepted", "rejected"]);
    expect(items[1]!.problem).toMatchObject({ code: "EDDY_BACKLOG_FULL", status: 429 });

    // A batch refused as a whole for now says so with its status, not as invalid events.
    const all = await post(`${eddy.url}/v1/events`, [event("stuck", "s-c"), event("stuck", "s-d")], {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(all.status).toBe(429);
    expect(all.body.code).toBe("EDDY_BACKLOG_FULL");

    // Shown in /readyz (still ready: other functions take events) and in the metrics.
    const ready = await getJson<{ checks: Record<string, string> }>(`${eddy.url}/readyz`);
    expect(ready.checks.backlog).toContain("refusing events for stuck");
    const metrics = await (await fetch(`${eddy.url}/metrics`)).text();
    expect(metrics).toMatch(/eddy_ingest_refusing\{reason="function",function="stuck"\} 1/);
    expect(metrics).toMatch(/eddy_events_refused_total\{code="EDDY_BACKLOG_FULL"\} [1-9]/);
    // Nothing refused was stored: the backlog is what was accepted.
    await waitFor(async () => {
      const c = await eddy.engine.backend.queue.counts("stuck");
      return c.ready + c.leased === LIMIT;
    }, "the backlog to hold the accepted events only");
  });
});
