// step.invoke end to end: a workflow starts a child run once, waits for it holding no sandbox, and
// gets its output or its failure; a timeout cancels the child; cancelling the parent cancels the
// child; retrying the parent retries its failed child. Side effects are counted in files outside Eddy.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { RunView } from "eddy";
import { advanceWhenArmed, fnSource, getJson, post, tempApp, testClock, waitFor } from "./helpers.js";
import { lines, runsOf, send, serveWorkflows, waitForRun, workflowSource } from "./workflow-helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "eddy-wf-invoke-"));
const file = (name: string) => join(tmp, name);
const json = (v: unknown) => JSON.stringify(v);
const clock = testClock(Date.parse("2030-01-01T00:00:00Z"));

/** A workflow started only by `step.invoke` (its trigger type is never sent). */
const child = (name: string, body: string) => workflowSource(name, `${name}.never`, body);

const app = tempApp({
  "functions/order.ts": workflowSource(
    "order",
    "order.go",
    `appendFileSync(${json(file("order"))}, "replay\\n");
     const charged = await step.invoke("charge", { function: "charge", data: { amount: event.data.amount } });
     const shipped = await step.run("ship", () => "shipped " + charged.receipt);
     return { charged, shipped };`,
  ),
  "functions/charge.ts": child(
    "charge",
    `await step.run("pay", () => { appendFileSync(${json(file("charge"))}, "pay\\n"); });
     return { receipt: "R-" + event.data.amount, parent: event.eddyparentrun };`,
  ),
  "functions/flaky-parent.ts": workflowSource(
    "flaky-parent",
    "flaky.go",
    `try {
       return await step.invoke("call", { function: "flaky-child" });
     } catch (err) {
       appendFileSync(${json(file("flaky-caught"))}, err.code + "\\n");
       throw err;
     }`,
  ),
  "functions/flaky-child.ts": child(
    "flaky-child",
    `await step.run("one", () => { appendFileSync(${json(file("flaky-one"))}, "1\\n"); return 1; });
     return await step.run("two", () => {
       if (!existsSync(${json(file("fixed"))})) throw new NonRetriableError("not yet");
       return "fixed";
     });`,
  ),
  "functions/impatient.ts": workflowSource(
    "impatient",
    "impatient.go",
    `return await step.invoke("call", { function: "slow", timeout: "1s" });`,
  ),
  "functions/slow.ts": child(
    "slow",
    `return await step.waitForEvent("never", { type: "slow.never", timeout: "7d" });`,
  ),
  "functions/lost.ts": workflowSource(
    "lost",
    "lost.go",
    `return await step.invoke("call", { function: "no-such-workflow" });`,
  ),
  "functions/plain.ts": fnSource("plain", { type: ["plain.never"] }),
  "functions/mistaken.ts": workflowSource(
    "mistaken",
    "mistaken.go",
    `return await step.invoke("call", { function: "plain" });`,
  ),
  "functions/holder.ts": workflowSource(
    "holder",
    "holder.go",
    `return await step.invoke("call", { function: "slow" });`,
  ),
});
const server = serveWorkflows(app, tmp, clock);

const run = (id: string) => getJson<RunView>(`${server.eddy.url}/v1/runs/${encodeURIComponent(id)}`);
const action = (id: string, what: "cancel" | "retry") =>
  post(
    `${server.eddy.url}/v1/runs/${encodeURIComponent(id)}/${what}`,
    {},
    { "content-type": "application/json" },
  );

describe("step.invoke", () => {
  it("starts the child once and returns its output; the child names its parent", async () => {
    await send(server.eddy.url, "order.go", { amount: 42 });
    const done = await waitForRun(server.eddy.url, "order", "succeeded");
    const step = done.steps.find((s) => s.id === "charge")!;
    expect(step).toMatchObject({ kind: "invoke", status: "done", result: { receipt: "R-42" } });
    const childRun = await run(step.invoked!);
    expect(childRun).toMatchObject({
      workflow: "charge",
      status: "succeeded",
      event: { type: "eddy.workflow.start", data: { amount: 42 }, eddyparentrun: done.id },
    });
    expect(done.output).toEqual({
      charged: { receipt: "R-42", parent: done.id },
      shipped: "shipped R-42",
    });
    // Replayed after the child ended (and after its step), yet the child ran once.
    expect(lines(file("order")).length).toBeGreaterThanOrEqual(2);
    expect(lines(file("charge"))).toEqual(["pay"]);
    expect(await runsOf(server.eddy.url, "charge")).toHaveLength(1);
  });

  it("a failed child fails the step; retrying the parent retries the child, which keeps its finished steps", async () => {
    await send(server.eddy.url, "flaky.go", {});
    const failed = await waitForRun(server.eddy.url, "flaky-parent", "failed");
    expect(failed.error).toMatchObject({ code: "EDDY_INVOKED_RUN_FAILED" });
    expect(failed.error!.message).toContain("not yet");
    expect(lines(file("flaky-caught"))).toEqual(["EDDY_INVOKED_RUN_FAILED"]);
    const step = failed.steps.find((s) => s.id === "call")!;
    expect(step).toMatchObject({ kind: "invoke", status: "failed" });
    expect((await run(step.invoked!)).status).toBe("failed");

    writeFileSync(file("fixed"), "");
    expect((await action(failed.id, "retry")).status).toBe(200);
    const done = await waitFor(async () => {
      const r = await run(failed.id);
      return r.status === "succeeded" && r;
    }, "the retried parent to succeed");
    expect(done.output).toBe("fixed");
    const retriedChild = await run(step.invoked!);
    expect(retriedChild.status).toBe("succeeded");
    expect(await runsOf(server.eddy.url, "flaky-child")).toHaveLength(1);
    expect(lines(file("flaky-one"))).toEqual(["1"]);
  });

  it("a child that outlives the timeout is cancelled and the step fails", async () => {
    await send(server.eddy.url, "impatient.go", {});
    const waiting = await waitForRun(server.eddy.url, "impatient", "waiting");
    const step = waiting.steps.find((s) => s.id === "call")!;
    expect(step).toMatchObject({ kind: "invoke", status: "pending" });
    expect(step.wakeAt).toBeDefined();
    await advanceWhenArmed(clock, 1000);
    const failed = await waitForRun(server.eddy.url, "impatient", "failed");
    expect(failed.error).toMatchObject({ code: "EDDY_INVOKE_TIMEOUT" });
    expect(await run(step.invoked!)).toMatchObject({
      status: "cancelled",
      error: { code: "EDDY_RUN_CANCELLED" },
    });
  });

  it("naming a workflow that is not deployed fails the step", async () => {
    await send(server.eddy.url, "lost.go", {});
    const failed = await waitForRun(server.eddy.url, "lost", "failed");
    expect(failed.error).toMatchObject({ code: "EDDY_INVOKED_WORKFLOW_NOT_FOUND" });
    expect(failed.error!.message).toContain("no-such-workflow");
    await send(server.eddy.url, "mistaken.go", {});
    const mistaken = await waitForRun(server.eddy.url, "mistaken", "failed");
    expect(mistaken.error).toMatchObject({ code: "EDDY_INVOKED_WORKFLOW_NOT_FOUND" });
    expect(mistaken.error!.message).toContain('"plain" is a function, not a workflow');
  });

  it("cancelling the parent cancels the child it waits for", async () => {
    await send(server.eddy.url, "holder.go", {});
    const waiting = await waitForRun(server.eddy.url, "holder", "waiting");
    const childId = waiting.steps.find((s) => s.id === "call")!.invoked!;
    await waitFor(async () => (await run(childId)).status === "waiting", "the child to wait");
    expect((await action(waiting.id, "cancel")).status).toBe(200);
    expect(await run(childId)).toMatchObject({
      status: "cancelled",
      error: { message: expect.stringContaining(`its parent ${waiting.id} was cancelled`) },
    });
    expect((await run(waiting.id)).status).toBe("cancelled");
  });
});
