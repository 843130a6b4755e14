// Durable workflows end to end: real server, real sandboxes, the side effects of steps counted in
// files outside Eddy, and time driven by a manual clock (sleeps and retries pass when the test
// advances it; on the cluster's real time the short durations pass by themselves).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ManualClock } from "@eddy/server/testing";
import { advanceWhenArmed, post, startTestEddy, tempApp, testClock, waitFor } from "./helpers.js";
import { lines, runsOf, send, serveWorkflows, waitForRun, workflowSource } from "./workflow-helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "eddy-wf-"));
const file = (name: string) => join(tmp, name);
const mode = file("mode");
writeFileSync(mode, "a");

const clock = testClock(Date.parse("2030-01-01T00:00:00Z"));
// A sleep the test advances past on the manual clock; on the cluster's real time it passes by
// itself, long enough for the test to see (and change things during) the sleep.
const NAP = clock ? "1s" : "3s";
const app = tempApp({
  // Two steps around a sleep: each step's body appends to a file outside Eddy.
  "functions/replay.ts": workflowSource(
    "replay",
    "replay.go",
    `const a = await step.run("a", () => { appendFileSync(${JSON.stringify(file("replay"))}, "a\\n"); return { n: event.data.n }; });
     await step.sleep("nap", "${NAP}");
     const b = await step.run("b", () => { appendFileSync(${JSON.stringify(file("replay"))}, "b\\n"); return a.n + 1; });
     return { a, b };`,
  ),
  // Parallel steps with Promise.all, and a step retried after it threw twice.
  "functions/retry.ts": workflowSource(
    "retry",
    "retry.go",
    `const [x, y] = await Promise.all([
       step.run("x", () => 1),
       step.run("flaky", () => {
         appendFileSync(${JSON.stringify(file("flaky"))}, "try\\n");
         if (readFileSync(${JSON.stringify(file("flaky"))}, "utf8").split("\\n").length < 4) throw new Error("not yet");
         return 2;
       }, { retries: { maxAttempts: 5, backoff: { initial: "1s", factor: 1, jitter: "none" } } }),
     ]);
     let caught = "";
     try { await step.run("never", () => { throw new NonRetriableError("no way"); }); } catch (e) { caught = e.message; }
     return { x, y, caught };`,
  ),
  // Which step comes first depends on a file the test changes while the run sleeps.
  "functions/drift.ts": workflowSource(
    "drift",
    "drift.go",
    `await step.run(readFileSync(${JSON.stringify(mode)}, "utf8"), () => 1);
     await step.sleep("nap", "${NAP}");
     return "done";`,
  ),
  // The same in a process sandbox (no file access there: the steps' results carry the evidence).
  "functions/jailed.ts": workflowSource(
    "jailed",
    "jailed.go",
    `const pid = await step.run("pid", () => process.pid);
     await step.sleep("nap", "${NAP}");
     return { same: (await step.run("again", () => pid)) === pid };`,
    'isolation: "process"',
  ),
  // One execution at a time: runs started meanwhile wait as rows and are leased when there is room.
  "functions/serial.ts": workflowSource(
    "serial",
    "serial.go",
    `const n = await step.run("n", () => event.data.n);
     await step.run("m", () => n * 2);
     return n;`,
    "concurrency: { max: 1 }",
  ),
  // A queue message starts a run too (one per message's delivery).
  "functions/queued.ts": `import { defineWorkflow, on } from "eddy";
export default defineWorkflow({ name: "queued", triggers: [on.queue("wf-jobs")] }, async (event, step) =>
  step.run("echo", () => event.data),
);
`,
  "functions/dup.ts": workflowSource(
    "dup",
    "dup.go",
    `await step.run("charge", () => 1);
     await step.run("charge", () => 2);`,
  ),
  "functions/big.ts": workflowSource(
    "big",
    "big.go",
    `await step.run("large", () => "x".repeat(200));`,
    "limits: { stepResultBytes: 100 }",
  ),
  "functions/bad-if.ts": workflowSource(
    "bad-if",
    "bad-if.go",
    `await step.waitForEvent("w", { type: "x", if: "async.data ===", timeout: "1h" });`,
  ),
  "functions/state.ts": workflowSource(
    "state",
    "state.go",
    `await step.run("one", () => "x".repeat(80));
     await step.run("two", () => "y".repeat(80));`,
    "limits: { stepResultBytes: 100, stateBytes: 150 }",
  ),
  // RetryAfterError sets the step's delay; sleepUntil waits for a time given in the event.
  "functions/later.ts": workflowSource(
    "later",
    "later.go",
    `const n = await step.run("once-later", () => {
       appendFileSync(${JSON.stringify(file("later"))}, "try\\n");
       if (readFileSync(${JSON.stringify(file("later"))}, "utf8").split("\\n").length < 3) throw new RetryAfterError("busy", event.data.after);
       return "ok";
     });
     await step.sleepUntil("until", event.data.until);
     return n;`,
  ),
  "functions/many.ts": workflowSource(
    "many",
    "many.go",
    `for (let i = 0; i < 3; i++) await step.run("s-" + i, () => i);`,
    "limits: { steps: 2 }",
  ),
});
const server = serveWorkflows(app, tmp, clock);

describe("workflows", () => {
  it("journals each step: a replay after a sleep returns the results without running the steps again", async () => {
    await send(server.eddy.url, "replay.go", { n: 41 });
    const sleeping = await waitForRun(server.eddy.url, "replay", "sleeping");
    expect(sleeping.steps.map((s) => [s.id, s.kind, s.status])).toEqual([
      ["a", "run", "done"],
      ["nap", "sleep", "pending"],
    ]);
    await advanceWhenArmed(clock, 1000);
    const done = await waitForRun(server.eddy.url, "replay", "succeeded");
    expect(done.output).toEqual({ a: { n: 41 }, b: 42 });
    expect(lines(file("replay"))).toEqual(["a", "b"]);
    expect(done.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ["a", "done", 1],
      ["nap", "done", 0],
      ["b", "done", 1],
    ]);
    expect(done.event.data).toEqual({ n: 41 });
  });

  it("retries a step by its own policy, runs parallel steps, and throws a NonRetriableError into the handler", async () => {
    await send(server.eddy.url, "retry.go", {});
    // Each failed attempt suspends the run until its retry is due (on real time it just comes).
    for (let k = 1; clock && k <= 2; k++) {
      await waitFor(
        async () =>
          lines(file("flaky")).length === k &&
          (await runsOf(server.eddy.url, "retry"))[0]?.dueAt !== undefined,
        `attempt ${k} of the flaky step to fail`,
      );
      await advanceWhenArmed(clock, 1000);
    }
    const done = await waitForRun(server.eddy.url, "retry", "succeeded");
    expect(done.output).toEqual({ x: 1, y: 2, caught: "no way" });
    expect(lines(file("flaky"))).toHaveLength(3);
    const flaky = done.steps.find((s) => s.id === "flaky")!;
    expect(flaky).toMatchObject({ status: "done", attempts: 3 });
    expect(done.steps.find((s) => s.id === "never")).toMatchObject({
      status: "failed",
      attempts: 1,
      error: { name: "NonRetriableError", message: "no way" },
    });
  });

  it("fails a run whose replay asks for another step than its journal holds, naming both", async () => {
    await send(server.eddy.url, "drift.go", {});
    await waitForRun(server.eddy.url, "drift", "sleeping");
    writeFileSync(mode, "b");
    await advanceWhenArmed(clock, 1000);
    const failed = await waitForRun(server.eddy.url, "drift", "failed");
    expect(failed.error).toMatchObject({
      name: "NonDeterminismError",
      code: "EDDY_WORKFLOW_NON_DETERMINISM",
    });
    expect(failed.error!.message).toContain('step "b" (run, step #1)');
    expect(failed.error!.message).toContain('step "a" (run, step #1)');
  });

  it("runs in a process sandbox too", async () => {
    await send(server.eddy.url, "jailed.go", {});
    if (clock) await waitForRun(server.eddy.url, "jailed", "sleeping");
    await advanceWhenArmed(clock, 1000);
    const done = await waitForRun(server.eddy.url, "jailed", "succeeded");
    expect(done.output).toEqual({ same: true });
  });

  it("runs beyond a workflow's concurrency wait as rows, and all finish", async () => {
    for (const n of [1, 2, 3, 4]) await send(server.eddy.url, "serial.go", { n });
    await waitFor(async () => {
      const runs = await runsOf(server.eddy.url, "serial");
      return runs.length === 4 && runs.every((r) => r.status === "succeeded");
    }, "four runs of serial to succeed");
  });

  it("starts a run per queue message", async () => {
    const sent = await post(
      `${server.eddy.url}/v1/queues/wf-jobs/messages`,
      { body: { job: 7 } },
      {
        "content-type": "application/json",
      },
    );
    expect(sent.status).toBeLessThan(300);
    const done = await waitForRun(server.eddy.url, "queued", "succeeded");
    expect(done.output).toEqual({ job: 7 });
  });

  it("fails a run that reuses a step id, naming both steps", async () => {
    await send(server.eddy.url, "dup.go", {});
    const failed = await waitForRun(server.eddy.url, "dup", "failed");
    expect(failed.error).toMatchObject({ name: "StepIdReusedError", code: "EDDY_STEP_ID_REUSED" });
    expect(failed.error!.message).toContain(
      'step "charge" (run, step #2) reuses the id of step "charge" (run, step #1)',
    );
  });

  it("enforces the limits of a run: result size and number of steps", async () => {
    await send(server.eddy.url, "big.go", {});
    await send(server.eddy.url, "many.go", {});
    const big = await waitForRun(server.eddy.url, "big", "failed");
    expect(big.error).toMatchObject({ code: "EDDY_STEP_RESULT_TOO_LARGE" });
    expect(big.error!.message).toContain("limits.stepResultBytes (100)");
    const many = await waitForRun(server.eddy.url, "many", "failed");
    expect(many.error).toMatchObject({ code: "EDDY_TOO_MANY_STEPS" });
    expect(many.steps.map((s) => s.id)).toEqual(["s-0", "s-1"]);
  });

  it("enforces the run's state size over all its steps", async () => {
    await send(server.eddy.url, "state.go", {});
    const failed = await waitForRun(server.eddy.url, "state", "failed");
    expect(failed.error).toMatchObject({ code: "EDDY_RUN_STATE_TOO_LARGE" });
    expect(failed.error!.message).toContain("limits.stateBytes (150)");
    expect(failed.steps.map((s) => s.id)).toEqual(["one"]);
  });

  it("honours RetryAfterError per step, and sleepUntil", async () => {
    const now = clock?.now() ?? Date.now();
    const after = clock ? 5000 : 1000;
    await send(server.eddy.url, "later.go", { after, until: new Date(now + 2 * after).toISOString() });
    if (clock) {
      const waiting = await waitFor(async () => {
        const [r] = await runsOf(server.eddy.url, "later");
        return r?.dueAt !== undefined && r;
      }, "the step to wait for its retry");
      expect(waiting.dueAt).toBe(now + after);
      await advanceWhenArmed(clock, after);
      await waitForRun(server.eddy.url, "later", "sleeping");
      await advanceWhenArmed(clock, after);
    }
    const done = await waitForRun(server.eddy.url, "later", "succeeded");
    expect(done.output).toBe("ok");
    expect(done.steps.map((s) => [s.id, s.kind, s.attempts])).toEqual([
      ["once-later", "run", 2],
      ["until", "sleep", 0],
    ]);
    expect(lines(file("later"))).toHaveLength(2);
  });

  it("fails a run whose step the engine cannot take, saying why", async () => {
    await send(server.eddy.url, "bad-if.go", {});
    const failed = await waitForRun(server.eddy.url, "bad-if", "failed");
    expect(failed.error).toMatchObject({ code: "EDDY_INVALID_STEP" });
    expect(failed.error!.message).toContain("invalid CEL expression");
    expect(failed.steps).toEqual([]);
  });

  it.skipIf(!clock)(
    "a sleep survives a restart: a new server on the same SQLite file finishes the run (embedded; the cluster's: packages/cluster/test/workflow-restart.test.ts)",
    async () => {
      rmSync(file("replay"), { force: true });
      await send(server.eddy.url, "replay.go", { n: 1 });
      await waitForRun(server.eddy.url, "replay", "sleeping", 2);
      await server.eddy.close();
      const later = new ManualClock(clock!.now());
      server.eddy = await startTestEddy(app.dir, { dataDir: server.dataDir, clock: later });
      expect((await waitForRun(server.eddy.url, "replay", "sleeping", 2)).steps[0]).toMatchObject({
        id: "a",
        status: "done",
      });
      await advanceWhenArmed(later, 1000);
      const done = await waitForRun(server.eddy.url, "replay", "succeeded", 2);
      expect(done.output).toEqual({ a: { n: 1 }, b: 2 });
      expect(lines(file("replay"))).toEqual(["a", "b"]);
    },
  );
});
