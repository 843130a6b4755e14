// step.waitForEvent without lost waits, step.sendEvent exactly once, and the runs API.
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunView, StartRunResponse } from "eddy";
import { ManualClock } from "@eddy/server/testing";
import {
  advanceWhenArmed,
  fnSource,
  getJson,
  invocations,
  post,
  startTestEddy,
  tempApp,
  testClock,
  waitFor,
} from "./helpers.js";
import { runsOf, send, serveWorkflows, waitForRun, workflowSource } from "./workflow-helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "eddy-wf-waits-"));
const file = (name: string) => join(tmp, name);
const json = (v: unknown) => JSON.stringify(v);

const app = tempApp({
  // The first step holds until the test says go: an event sent meanwhile arrives before the wait is reached.
  "functions/late.ts": workflowSource(
    "late",
    "order.placed",
    `await step.run("hold", async () => {
       appendFileSync(${json(file("started"))}, "1\\n");
       while (!existsSync(${json(file("go"))})) await new Promise((r) => setTimeout(r, 5));
     });
     const paid = await step.waitForEvent("paid", { type: "order.paid", match: "data.orderId", if: "async.data.total > 10.0", timeout: "1h" });
     return paid && { id: paid.id, total: paid.data.total };`,
  ),
  "functions/waiter.ts": workflowSource(
    "waiter",
    "ship.requested",
    `const e = await step.waitForEvent("shipped", { type: "ship.done", match: "data.orderId", timeout: event.data.timeout });
     return e ? e.id : null;`,
  ),
  "functions/racer.ts": workflowSource(
    "racer",
    "race.start",
    `const e = await step.waitForEvent("done", { type: "race.done", match: "data.k", timeout: "1h" });
     return e && e.data.k;`,
  ),
  "functions/sender.ts": workflowSource(
    "sender",
    "send.go",
    `const r = await step.sendEvent("notify", { type: "note.sent", data: { n: 1 } });
     await step.sleep("nap", "1s");
     return r;`,
  ),
  "functions/note-counter.ts": fnSource("note-counter", { type: ["note.sent"] }),
  "functions/api.ts": workflowSource(
    "api",
    "api.never",
    `await step.sleep("long", event.data.sleep); return { got: event.data };`,
  ),
});
const clock = testClock(Date.parse("2030-01-01T00:00:00Z"));
const server = serveWorkflows(app, tmp, clock);

describe("workflow waits", () => {
  it("no lost wait: an event that arrived after the run started, before the wait was reached, resolves it", async () => {
    await send(server.eddy.url, "order.placed", { orderId: "o-1" });
    await waitFor(() => existsSync(file("started")), "the run to start");
    // Sent while the run is in its first step: another order, one that fails `if`, then the one.
    await send(server.eddy.url, "order.paid", { orderId: "o-2", total: 50 });
    await send(server.eddy.url, "order.paid", { orderId: "o-1", total: 5 });
    await send(server.eddy.url, "order.paid", { orderId: "o-1", total: 20 }, "the-payment");
    await send(server.eddy.url, "order.paid", { orderId: "o-1", total: 30 }, "a-later-payment");
    writeFileSync(file("go"), "");
    const done = await waitForRun(server.eddy.url, "late", "succeeded");
    expect(done.output).toEqual({ id: "the-payment", total: 20 });
    expect(done.steps.find((s) => s.id === "paid")).toMatchObject({
      kind: "wait",
      status: "done",
      waitFor: "order.paid",
    });
  });

  it("a wait registered first is resolved by the event when it comes; events before the trigger do not count", async () => {
    await send(server.eddy.url, "ship.done", { orderId: "s-1" }, "too-early");
    await send(server.eddy.url, "ship.requested", { orderId: "s-1", timeout: "1h" });
    await waitForRun(server.eddy.url, "waiter", "waiting");
    await send(server.eddy.url, "ship.done", { orderId: "s-2" });
    await send(server.eddy.url, "ship.done", { orderId: "s-1" }, "shipped-1");
    const done = await waitForRun(server.eddy.url, "waiter", "succeeded");
    expect(done.output).toBe("shipped-1");
  });

  it("no lost wait when events and wait registrations race: 30 runs, each event sent with its trigger", async () => {
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    // Each awaited event goes out right after its trigger, so it lands before, during or after
    // the registration of its wait.
    await Promise.all(
      keys.map(async (k) => {
        await send(server.eddy.url, "race.start", { k });
        await send(server.eddy.url, "race.done", { k });
      }),
    );
    await waitFor(async () => {
      const runs = await runsOf(server.eddy.url, "racer");
      return runs.length === 30 && runs.every((r) => r.status === "succeeded");
    }, "every racer run to resolve its wait");
    const outputs = await Promise.all(
      (await runsOf(server.eddy.url, "racer")).map(
        async (r) => (await getJson<RunView>(`${server.eddy.url}/v1/runs/${r.id}`)).output,
      ),
    );
    expect(outputs.sort()).toEqual([...keys].sort());
  });

  it("a wait resolves with null at its timeout", async () => {
    await send(server.eddy.url, "ship.requested", { orderId: "never", timeout: "1s" });
    const waiting = clock ? await waitForRun(server.eddy.url, "waiter", "waiting", 2) : undefined;
    if (waiting) expect(waiting.dueAt).toBeDefined();
    await advanceWhenArmed(clock, 1000);
    const done = await waitForRun(server.eddy.url, "waiter", "succeeded", 2);
    expect(done.event.data).toMatchObject({ orderId: "never" });
    expect(done.output).toBeNull();
  });

  it("step.sendEvent publishes once per run, not again on replay", async () => {
    await send(server.eddy.url, "send.go", {});
    if (clock) await waitForRun(server.eddy.url, "sender", "sleeping");
    await advanceWhenArmed(clock, 1000);
    const done = await waitForRun(server.eddy.url, "sender", "succeeded");
    expect(done.output).toEqual({ ids: [`${done.id}.notify.0`] });
    await waitFor(
      async () => (await invocations(server.eddy.url, "note-counter")).length === 1,
      "the sent event's run",
    );
    const notes = await invocations(server.eddy.url, "note-counter");
    expect(notes.map((n) => n.eventId)).toEqual([`${done.id}.notify.0`]);
  });
});

describe("the runs API", () => {
  it("starts a run over HTTP, lists and shows it, and cancels it", async () => {
    const started = await post(
      `${server.eddy.url}/v1/workflows/api/runs`,
      { data: { hello: "world", sleep: "1h" }, id: "start-1" },
      {
        "content-type": "application/json",
      },
    );
    expect(started.status).toBe(202);
    const body = started.body as unknown as StartRunResponse;
    expect(body.statusUrl).toBe(`/v1/runs/${encodeURIComponent(body.id)}`);
    // Idempotent by the trigger event's id: the same start names the same run.
    const again = await post(
      `${server.eddy.url}/v1/workflows/api/runs`,
      { data: {}, id: "start-1" },
      { "content-type": "application/json" },
    );
    expect((again.body as unknown as StartRunResponse).id).toBe(body.id);

    const sleeping = await waitForRun(server.eddy.url, "api", "sleeping");
    expect(sleeping).toMatchObject({
      id: body.id,
      workflow: "api",
      event: { type: "eddy.workflow.start", data: { hello: "world" } },
    });
    expect(await runsOf(server.eddy.url, "api")).toHaveLength(1);

    const second = await post(
      `${server.eddy.url}/v1/workflows/api/runs`,
      { data: { sleep: "1s" } },
      { "content-type": "application/json" },
    );
    const secondId = (second.body as unknown as StartRunResponse).id;
    const runView = (id: string) => getJson<RunView>(`${server.eddy.url}/v1/runs/${encodeURIComponent(id)}`);
    // On the manual clock its sleep must have begun before the clock moves past it.
    await waitFor(async () => {
      const status = (await runView(secondId)).status;
      return clock ? status === "sleeping" : true;
    }, "the second run to start (and on the manual clock, to sleep)");
    const page1 = await getJson<{ runs: { id: string }[]; next?: string }>(
      `${server.eddy.url}/v1/runs?workflow=api&limit=1`,
    );
    expect(page1.runs.map((r) => r.id)).toEqual([(second.body as unknown as StartRunResponse).id]);
    const page2 = await getJson<{ runs: { id: string }[] }>(
      `${server.eddy.url}/v1/runs?workflow=api&limit=1&before=${encodeURIComponent(page1.next!)}`,
    );
    expect(page2.runs.map((r) => r.id)).toEqual([body.id]);
    expect((await getJson<{ runs: unknown[] }>(`${server.eddy.url}/v1/runs?status=cancelled`)).runs).toEqual(
      [],
    );

    const cancel = await post(
      `${server.eddy.url}/v1/runs/${encodeURIComponent(body.id)}/cancel`,
      {},
      { "content-type": "application/json" },
    );
    expect(cancel.status).toBe(200);
    await advanceWhenArmed(clock, 1000);
    await waitFor(
      async () =>
        (
          await getJson<RunView>(
            `${server.eddy.url}/v1/runs/${encodeURIComponent((second.body as unknown as StartRunResponse).id)}`,
          )
        ).status === "succeeded",
      "the other run to finish",
    );
    const cancelled = await getJson<RunView>(`${server.eddy.url}/v1/runs/${encodeURIComponent(body.id)}`);
    expect(cancelled).toMatchObject({ status: "cancelled", error: { code: "EDDY_RUN_CANCELLED" } });

    const twice = await post(
      `${server.eddy.url}/v1/runs/${encodeURIComponent(body.id)}/cancel`,
      {},
      { "content-type": "application/json" },
    );
    expect(twice).toMatchObject({ status: 409, body: { code: "EDDY_RUN_FINISHED" } });
    const none = await post(
      `${server.eddy.url}/v1/workflows/nope/runs`,
      {},
      { "content-type": "application/json" },
    );
    expect(none).toMatchObject({ status: 404, body: { code: "EDDY_WORKFLOW_NOT_FOUND" } });
    const missing = await fetch(`${server.eddy.url}/v1/runs/nope`);
    expect(missing.status).toBe(404);
    const bad = await fetch(`${server.eddy.url}/v1/runs?status=lost`);
    expect(bad.status).toBe(400);
    // The trigger event of a run started over the API has an event's limits.
    const huge = await post(
      `${server.eddy.url}/v1/workflows/api/runs`,
      { data: "x".repeat(300 * 1024) },
      { "content-type": "application/json" },
    );
    expect(huge).toMatchObject({ status: 413, body: { code: "EDDY_EVENT_TOO_LARGE" } });
  });
});

describe("waits across a restart", () => {
  it.skipIf(!clock)(
    "a run waiting when the server stops is resolved by an event sent to the next one (embedded: the same SQLite file)",
    async () => {
      await send(server.eddy.url, "ship.requested", { orderId: "r-1", timeout: "1h" });
      await waitForRun(server.eddy.url, "waiter", "waiting", 3);
      await server.eddy.close();
      server.eddy = await startTestEddy(app.dir, {
        dataDir: server.dataDir,
        clock: new ManualClock(clock!.now()),
      });
      await send(server.eddy.url, "ship.done", { orderId: "r-1" }, "after-restart");
      const done = await waitForRun(server.eddy.url, "waiter", "succeeded", 3);
      expect(done.output).toBe("after-restart");
    },
  );
});
