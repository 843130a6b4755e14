import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import {
  advanceWhenArmed,
  fnSource,
  invocations,
  post,
  startTestEddy,
  tempApp,
  testClock,
  waitFor,
} from "./helpers.js";

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
// Backoff is waited for on it (on the cluster, real time: see testClock).
const clock = testClock();

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { clock });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function send(type: string, id: string, data: unknown = {}) {
  const res = await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type, data });
  expect(res.status).toBe(202);
}

/** Lets the retries of `eventId` in `fn` come, `delays` apart: each once the attempt before it is on record. */
async function retries(fn: string, eventId: string, delays: number[]): Promise<void> {
  for (const [i, ms] of delays.entries()) {
    await waitFor(
      async () => (await invocations(eddy.url, fn)).filter((x) => x.eventId === eventId).length > i,
      `attempt ${i + 1} of ${eventId}`,
    );
    await advanceWhenArmed(clock, ms);
  }
}

/** Start times of the attempts of `eventId`, from the first. */
async function startOffsets(fn: string, eventId: string): Promise<number[]> {
  const starts = (await invocations(eddy.url, fn))
    .filter((x) => x.eventId === eventId)
    .map((x) => x.startedAt)
    .sort((a, b) => a - b);
  return starts.map((t) => t - starts[0]!);
}

describe("retries and dead letters", () => {
  it("retries with backoff until success and records every attempt", async () => {
    await send("flaky", "f1");
    await retries("flaky", "f1", [50, 100]);
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
    // 50 ms, then twice that (factor 2, no jitter).
    if (clock) expect(await startOffsets("flaky", "f1")).toEqual([0, 50, 150]);
  });

  it("dead-letters after maxAttempts with the last error", async () => {
    await send("fail", "a1");
    await retries("always-fails", "a1", [50, 100]);
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
    if (clock) {
      await waitFor(async () => (await invocations(eddy.url, "retry-after")).length === 1, "first attempt");
      // Not at the backoff (50 ms): nothing is due before the 300 ms asked for.
      await clock.advance(299);
      expect(await eddy.engine.backend.queue.counts("retry-after")).toMatchObject({ ready: 1, leased: 0 });
      await advanceWhenArmed(clock, 1);
    }
    await waitFor(async () => (await invocations(eddy.url, "retry-after")).length === 2, "second attempt");
    const [, second] = await startOffsets("retry-after", "r1");
    if (clock) expect(second).toBe(300);
    else expect(second).toBeGreaterThanOrEqual(290);
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
    await retries("emitter", "e2", [50]);
    await waitFor(async () => {
      const l = await invocations(eddy.url, "downstream");
      return l.find((i) => (i.logs[0]?.fields as { from?: string } | undefined)?.from === "e2");
    }, "downstream run of the retry");
    // Nothing else is queued for downstream: no other run of e2's emits can come.
    await waitFor(async () => {
      const c = await eddy.engine.backend.queue.counts("downstream");
      return c.ready === 0 && c.leased === 0;
    }, "nothing left for downstream");
    const fromE2 = (await invocations(eddy.url, "downstream")).filter(
      (i) => (i.logs[0]?.fields as { from?: string } | undefined)?.from === "e2",
    );
    // Only the second (successful) attempt's emit reached the bus.
    expect(fromE2.map((i) => i.logs[0]!.fields)).toEqual([{ from: "e2", attempt: 2 }]);
  });
});
