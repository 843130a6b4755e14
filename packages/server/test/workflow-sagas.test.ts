// Sagas end to end: a run that fails for good runs the compensations of its finished steps, newest
// first, each journaled like a step (so a replay never runs a finished one again) and retried by
// its step's policy. The side effects are counted in files outside Eddy.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EddyClient } from "eddy";
import { advanceWhenArmed, post, tempApp, testClock, waitFor } from "./helpers.js";
import { lines, runsOf, send, serveWorkflows, waitForRun, workflowSource } from "./workflow-helpers.js";

const tmp = mkdtempSync(join(tmpdir(), "eddy-saga-"));
const file = (name: string) => join(tmp, name);
const clock = testClock(Date.parse("2030-01-01T00:00:00Z"));

/** A trip: book flight, hotel and car, each with a compensation; `carFails` and `flightCancel` vary. */
function trip(name: string, log: string, flightCancel: string): string {
  const out = JSON.stringify(file(log));
  return workflowSource(
    name,
    `${name}.go`,
    `const note = (s) => appendFileSync(${out}, s + "\\n");
     const retries = { maxAttempts: 3, backoff: { initial: "1s", factor: 1, jitter: "none" } };
     await step.run("flight", () => { note("book flight"); return { ref: "F1" }; }, {
       retries,
       compensate: async (r) => { ${flightCancel} },
     });
     await step.run("hotel", () => { note("book hotel"); return { ref: "H1" }; }, {
       compensate: (r) => note("cancel hotel " + r.ref),
     });
     await step.run("car", () => { note("try car"); throw new NonRetriableError("no cars left"); }, {
       compensate: () => note("cancel car"),
     });
     return "booked";`,
  );
}

const app = tempApp({
  // The flight's cancellation fails once, then succeeds on its retry: a replay in between.
  "functions/trip.ts": trip(
    "trip",
    "trip",
    `note("try cancel flight");
     if (readFileSync(${JSON.stringify(file("trip"))}, "utf8").split("\\n").filter((l) => l === "try cancel flight").length < 2) throw new Error("airline busy");
     note("cancel flight " + r.ref);`,
  ),
  // The flight's cancellation fails for good.
  "functions/stuck.ts": trip(
    "stuck",
    "stuck",
    `note("try cancel flight"); throw new NonRetriableError("airline gone");`,
  ),
  // Fails for good until the test writes the "fixed" file; then a retry resumes it.
  "functions/resumable.ts": workflowSource(
    "resumable",
    "resumable.go",
    `const note = (s) => appendFileSync(${JSON.stringify(file("resumable"))}, s + "\\n");
     const one = await step.run("one", () => { note("one"); return 1; });
     const two = await step.run("two", () => {
       note("two");
       if (!existsSync(${JSON.stringify(file("fixed"))})) throw new NonRetriableError("not yet");
       return 2;
     });
     return one + two;`,
  ),
});
const server = serveWorkflows(app, tmp, clock);

describe("workflow sagas", () => {
  it("compensates the finished steps newest first, each exactly once, retrying a compensation by its step's policy", async () => {
    await send(server.eddy.url, "trip.go", {});
    // The flight's cancellation failed once: the run waits for its retry (on real time it just comes).
    if (clock) {
      await waitFor(
        async () =>
          lines(file("trip")).includes("try cancel flight") &&
          (await runsOf(server.eddy.url, "trip"))[0]?.dueAt !== undefined,
        "the first cancellation of the flight to fail",
      );
      await advanceWhenArmed(clock, 1000);
    }
    const run = await waitForRun(server.eddy.url, "trip", "compensated");
    expect(lines(file("trip"))).toEqual([
      "book flight",
      "book hotel",
      "try car",
      "cancel hotel H1",
      "try cancel flight",
      "try cancel flight",
      "cancel flight F1",
    ]);
    expect(run.error).toMatchObject({ name: "NonRetriableError", message: "no cars left" });
    expect(run.steps.map((s) => [s.id, s.kind, s.status, s.attempts])).toEqual([
      ["flight", "run", "done", 1],
      ["hotel", "run", "done", 1],
      ["car", "run", "failed", 1],
      ["compensate:hotel", "compensate", "done", 1],
      ["compensate:flight", "compensate", "done", 2],
    ]);
    expect(run.steps[3]).toMatchObject({ compensates: "hotel" });
  });

  it("ends compensation_failed with the compensation's error when one fails for good", async () => {
    await send(server.eddy.url, "stuck.go", {});
    const run = await waitForRun(server.eddy.url, "stuck", "compensation_failed");
    expect(lines(file("stuck"))).toEqual([
      "book flight",
      "book hotel",
      "try car",
      "cancel hotel H1",
      "try cancel flight",
    ]);
    expect(run.error).toMatchObject({ name: "CompensationFailedError", code: "EDDY_COMPENSATION_FAILED" });
    expect(run.error!.message).toContain('step "flight"');
    expect(run.error!.message).toContain("airline gone");
    const list = await runsOf(server.eddy.url, "stuck");
    expect(list[0]!.status).toBe("compensation_failed");
  });

  it("POST /v1/runs/ID/retry resumes a failed run from its failed step, keeping the finished ones", async () => {
    const client = new EddyClient({ url: server.eddy.url });
    await send(server.eddy.url, "resumable.go", {});
    const failed = await waitForRun(server.eddy.url, "resumable", "failed");
    expect(failed.error).toMatchObject({ message: "not yet" });
    const path = `${server.eddy.url}/v1/runs/${encodeURIComponent(failed.id)}/retry`;

    writeFileSync(file("fixed"), "");
    expect(await client.retryRun(failed.id)).toEqual({
      id: failed.id,
      status: "running",
      statusUrl: `/v1/runs/${encodeURIComponent(failed.id)}`,
    });
    const done = await waitForRun(server.eddy.url, "resumable", "succeeded");
    expect(done.output).toBe(3);
    expect(done.error).toBeUndefined();
    expect(lines(file("resumable"))).toEqual(["one", "two", "two"]);
    expect(done.steps.map((s) => [s.id, s.status, s.attempts])).toEqual([
      ["one", "done", 1],
      ["two", "done", 1],
    ]);

    const again = await post(path, {}, { "content-type": "application/json" });
    expect(again).toMatchObject({ status: 409, body: { code: "EDDY_RUN_NOT_FAILED" } });
    expect(again.type).toContain("application/problem+json");
    await expect(client.retryRun("no-such-run")).rejects.toMatchObject({
      status: 404,
      code: "EDDY_RUN_NOT_FOUND",
    });
  });
});
