import { describe, expect, it } from "vitest";
import { defineWorkflow, InvalidFunctionConfigError, on } from "eddy";
import { checkResolvedConfig, isEddyFunction } from "eddy/internal";

const triggers = [on.event({ type: ["order.placed"] })];

describe("defineWorkflow", () => {
  it("is a function whose configuration has the workflow's limits, with their defaults", () => {
    const wf = defineWorkflow({ name: "checkout", triggers }, async () => "ok");
    expect(isEddyFunction(wf)).toBe(true);
    expect(wf.config.workflow).toEqual({
      stepResultBytes: 4 * 1024 * 1024,
      steps: 10_000,
      stateBytes: 64 * 1024 * 1024,
    });
    const small = defineWorkflow(
      { triggers, limits: { stepResultBytes: 100, steps: 5, stateBytes: 500 } },
      () => 1,
    );
    expect(small.config.workflow).toEqual({ stepResultBytes: 100, steps: 5, stateBytes: 500 });
  });

  it("round-trips through the server's check of a configuration read in a sandbox", () => {
    const wf = defineWorkflow({ triggers, limits: { steps: 7 }, retries: { maxAttempts: 2 } }, () => 1);
    expect(checkResolvedConfig(JSON.parse(JSON.stringify(wf.config)))).toEqual(wf.config);
    const changed = { ...wf.config, workflow: { ...wf.config.workflow!, steps: 0 } };
    expect(() => checkResolvedConfig(changed)).toThrow(/limits.steps/);
  });

  it.each([
    [{ limits: { steps: 0 } }, "limits.steps"],
    [{ limits: { stepResultBytes: 1.5 } }, "limits.stepResultBytes"],
    [{ limits: { stepResultBytes: 1000, stateBytes: 10 } }, "limits.stateBytes"],
    [{ triggers: [on.http("POST /orders")] }, "triggers"],
    [{ batch: { maxSize: 10, timeout: "1s" } }, "batch"],
  ])("refuses %j, naming %s", (bad, path) => {
    expect(() => defineWorkflow({ triggers, ...bad } as never, () => 1)).toThrow(InvalidFunctionConfigError);
    expect(() => defineWorkflow({ triggers, ...bad } as never, () => 1)).toThrow(path);
  });

  it("refuses a handler that is not a function", () => {
    expect(() => defineWorkflow({ triggers }, "nope" as never)).toThrow(/handler/);
  });
});
