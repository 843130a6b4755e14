// The workflow metrics on /metrics, read from a real server after runs succeeded, failed and were cancelled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { post, startTestEddy, tempApp } from "./helpers.js";
import { send, waitForRun, workflowSource } from "./workflow-helpers.js";

const app = tempApp({
  // One step of each kind; the first wait is resolved by the event the run sent, the second times out.
  "functions/m.ts": workflowSource(
    "m",
    "m.go",
    `await step.run("a", async () => 1);
     await step.sleep("nap", 0);
     await step.sendEvent("s", { type: "m.ping" });
     const ping = await step.waitForEvent("w", { type: "m.ping", timeout: "1h" });
     const none = await step.waitForEvent("t", { type: "m.never", timeout: 0 });
     return [ping?.type, none];`,
  ),
  "functions/mf.ts": workflowSource("mf", "mf.go", 'throw new NonRetriableError("no");'),
  "functions/mc.ts": workflowSource(
    "mc",
    "mc.go",
    'await step.waitForEvent("forever", { type: "mc.never", timeout: "1h" });',
  ),
});
const json = { "content-type": "application/json" };
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

/** The value of one sample on /metrics (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2]!.split(",");
    if (want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

describe("workflow metrics", () => {
  it("count runs started and finished by status, run durations, steps by kind and waits", async () => {
    await send(eddy.url, "m.go", {});
    await send(eddy.url, "mf.go", {});
    await send(eddy.url, "mc.go", {});
    expect((await waitForRun(eddy.url, "m", "succeeded")).output).toEqual(["m.ping", null]);
    await waitForRun(eddy.url, "mf", "failed");
    const waiting = await waitForRun(eddy.url, "mc", "waiting");
    const cancel = await post(`${eddy.url}/v1/runs/${encodeURIComponent(waiting.id)}/cancel`, {}, json);
    expect(cancel.status).toBe(200);

    const text = await (await fetch(`${eddy.url}/metrics`)).text();
    const m = (name: string, labels: Record<string, string>) => sample(text, name, labels);
    for (const workflow of ["m", "mf", "mc"]) {
      expect(m("eddy_workflow_runs_started_total", { workflow }), workflow).toBe(1);
    }
    const finished = "eddy_workflow_runs_finished_total";
    expect(m(finished, { workflow: "m", status: "succeeded" })).toBe(1);
    expect(m(finished, { workflow: "mf", status: "failed" })).toBe(1);
    expect(m(finished, { workflow: "mc", status: "cancelled" })).toBe(1);
    expect(m("eddy_workflow_run_duration_seconds_count", { workflow: "m", status: "succeeded" })).toBe(1);
    expect(m("eddy_workflow_run_duration_seconds_count", { workflow: "mf", status: "failed" })).toBe(1);
    const steps = (kind: string) => m("eddy_workflow_steps_total", { workflow: "m", kind });
    expect([steps("run"), steps("sleep"), steps("send"), steps("wait")]).toEqual([1, 1, 1, 2]);
    expect(m("eddy_workflow_waits_registered_total", { workflow: "m" })).toBe(2);
    expect(m("eddy_workflow_waits_registered_total", { workflow: "mc" })).toBe(1);
    const resolved = "eddy_workflow_waits_resolved_total";
    expect(m(resolved, { workflow: "m", outcome: "event" })).toBe(1);
    expect(m(resolved, { workflow: "m", outcome: "timeout" })).toBe(1);
    expect(m(resolved, { workflow: "mc", outcome: "event" })).toBe(0);
  });
});
