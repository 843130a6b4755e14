import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { fnSource, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const fast = `retries: { maxAttempts: 3, backoff: { initial: "50ms", factor: 2, max: "1s", jitter: "none" } }`;
const app = tempApp({
  // Fails twice, then succeeds: the third attempt acks.
  "functions/flaky.ts": fnSource(
    "flaky",
    { type: ["flaky"] },
    `if (ctx.invocation.attempt < 3) throw new Error("attempt " + ctx.invocation.attempt + " failed");`,
    fast,
  ),
  "functions/always-fails.ts": fnSource(
    "always-fails",
    { type: ["fail"] },
    `throw new TypeError("nope");`,
    fast,
  ),
  "functions/non-retriable.ts": fnSource(
    "non-retriable",
    { type: ["nonretriable"] },
    `throw new NonRetriableError("bad input");`,
    fast,
  ),
  "functions/retry-after.ts": fnSource(
    "retry-after",
    { type: ["retryafter"] },
    `if (ctx.invocation.attempt === 1) throw new RetryAfterError("later", 300);`,
    fast,
  ),
  "functions/slow.ts": fnSource(
    "slow",
    { type: ["slow"] },
    `await new Promise(() => {});`,
    `timeout: "200ms", retries: { maxAttempts: 1 }`,
  ),
  "functions/emitter.ts": fnSource(
    "emitter",
    { type: ["emit"] },
    `await ctx.emit({ type: "emitted", data: { from: event.id, attempt: ctx.invocation.attempt } });
     if (event.data.fail && ctx.invocation.attempt === 1) throw new Error("fail after emit");`,
    fast,
  ),
  "functions/downstream.ts": fnSource(
    "downstream",
    { type: ["emitted"] },
    `ctx.log.info("got", event.data);`,
  ),
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function send(type: string, id: string, data: unknown = {}) {
  const res = await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type, data });
  expect(res.status).toBe(202);
}

describe("retries and dead letters", () => {
  it("retries with backoff until success and records every attempt", async () => {
    await send("flaky", "f1");
    const list = await waitFor(async () => {
      const l = (await invocations(eddy.url, "flaky")).filter((i) => i.eventId === "f1");
      return l.some((i) => i.status === "succeeded") && l;
    }, "flaky to succeed");
    expect(list.map((i) => [i.attempt, i.status, i.outcome]).reverse()).toEqual([
      [1, "failed", "retry"],
      [2, "failed", "retry"],
      [3, "succeeded", "ack"],
    ]);
    expect(list[2]!.error?.message).toBe("attempt 1 failed");
  });

  it("dead-letters after maxAttempts with the last error", async () => {
    await send("fail", "a1");
    const dead = await waitFor(
      async () => (await eddy.engine.backend.deadLetters.list("always-fails", { limit: 10 }))[0],
      "dead letter",
    );
    expect(dead.attempts).toBe(3);
    expect(dead.event.id).toBe("a1");
    expect(dead.error).toMatchObject({ name: "TypeError", message: "nope" });
    const list = await invocations(eddy.url, "always-fails");
    expect(list.map((i) => i.outcome)).toEqual(["dead", "retry", "retry"]);
  });

  it("sends a NonRetriableError straight to the dead-letter queue", async () => {
    await send("nonretriable", "n1");
    const dead = await waitFor(
      async () => (await eddy.engine.backend.deadLetters.list("non-retriable", { limit: 10 }))[0],
      "dead letter",
    );
    expect(dead.attempts).toBe(1);
    expect(dead.error).toMatchObject({
      name: "NonRetriableError",
      code: "EDDY_NON_RETRIABLE",
      message: "bad input",
    });
  });

  it("waits as long as a RetryAfterError asks", async () => {
    await send("retryafter", "r1");
    const list = await waitFor(async () => {
      const l = await invocations(eddy.url, "retry-after");
      return l.length === 2 && l;
    }, "second attempt");
    const [second, first] = list as unknown as [
      { startedAt: number },
      { startedAt: number; durationMs: number },
    ];
    expect(second.startedAt - first.startedAt).toBeGreaterThanOrEqual(290);
  });

  it("times out a hanging attempt and records FunctionTimeoutError", async () => {
    await send("slow", "s1");
    const [inv] = await waitFor(async () => {
      const l = await invocations(eddy.url, "slow");
      return l.length === 1 && l;
    }, "timed-out attempt");
    expect(inv!.error).toMatchObject({ name: "FunctionTimeoutError", code: "EDDY_FUNCTION_TIMEOUT" });
    expect(inv!.outcome).toBe("dead");
  });
});

describe("emitted events", () => {
  it("are published when the attempt succeeds and run their functions", async () => {
    await send("emit", "e1");
    const got = await waitFor(async () => {
      const l = await invocations(eddy.url, "downstream");
      return l.find((i) => (i.logs[0]?.fields as { from?: string } | undefined)?.from === "e1");
    }, "downstream run");
    expect(got.logs[0]!.fields).toEqual({ from: "e1", attempt: 1 });
  });

  it("from a failed attempt are never published", async () => {
    await send("emit", "e2", { fail: true });
    await waitFor(async () => {
      const l = await invocations(eddy.url, "downstream");
      return l.find((i) => (i.logs[0]?.fields as { from?: string } | undefined)?.from === "e2");
    }, "downstream run of the retry");
    await new Promise((r) => setTimeout(r, 300));
    const fromE2 = (await invocations(eddy.url, "downstream")).filter(
      (i) => (i.logs[0]?.fields as { from?: string } | undefined)?.from === "e2",
    );
    // Only the second (successful) attempt's emit reached the bus.
    expect(fromE2.map((i) => i.logs[0]!.fields)).toEqual([{ from: "e2", attempt: 2 }]);
  });
});
