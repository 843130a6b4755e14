// Crash isolation: every way a function can misbehave is contained (timed out, terminated,
// retried, dead-lettered as its policy says), and meanwhile a healthy function keeps being served.
// Runs once per sandbox kind, on a real server with real sandboxes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import type { Invocation } from "./helpers.js";
import { fnSource, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const once = `retries: { maxAttempts: 1 }`;
const twice = `retries: { maxAttempts: 2, backoff: { initial: "20ms", jitter: "none" } }`;

function app(isolation: "thread" | "process") {
  const iso = `isolation: "${isolation}"`;
  return tempApp({
    "functions/throws.ts": fnSource(
      "throws",
      { type: ["throw"] },
      `throw new Error("thrown");`,
      `${iso}, ${twice}`,
    ),
    "functions/rejects.ts": fnSource(
      "rejects",
      { type: ["reject"] },
      `return Promise.reject(new TypeError("rejected"));`,
      `${iso}, ${once}`,
    ),
    "functions/spins.ts": fnSource(
      "spins",
      { type: ["spin"] },
      `for (;;) {}`,
      `${iso}, ${once}, timeout: "300ms"`,
    ),
    "functions/hogs.ts": fnSource(
      "hogs",
      { type: ["hog"] },
      `const keep = []; for (;;) keep.push(new Array(100_000).fill(Math.random()));`,
      `${iso}, ${once}, memoryMb: 32, timeout: "20s"`,
    ),
    "functions/exits.ts": fnSource("exits", { type: ["exit"] }, `process.exit(3);`, `${iso}, ${once}`),
    "functions/late-throw.ts": fnSource(
      "late-throw",
      { type: ["late"] },
      `setTimeout(() => { throw new Error("thrown from a timer after returning"); }, 5);`,
      `${iso}, ${twice}, concurrency: { max: 1 }`,
    ),
    "functions/floods.ts": fnSource(
      "floods",
      { type: ["flood"] },
      `const line = "x".repeat(1000);
       for (let i = 0; i < 5000; i++) { ctx.log.info(line); console.log(line); }
       process.stdout.write("y".repeat(4 << 20));
       process.stderr.write("z".repeat(4 << 20));`,
      `${iso}, ${once}`,
    ),
    "functions/healthy.ts": fnSource(
      "healthy",
      { type: ["healthy"] },
      `ctx.log.info("latency", { ms: Date.now() - event.data.sentAt });`,
      `${iso}, concurrency: { max: 2 }`,
    ),
  });
}

describe.each(["thread", "process"] as const)("%s sandboxes", (isolation) => {
  const dir = app(isolation);
  let eddy: RunningEddy;
  let n = 0;

  beforeAll(async () => {
    eddy = await startTestEddy(dir.dir);
    expect(eddy.failures).toEqual([]);
  });
  afterAll(async () => {
    await eddy?.close();
    dir.cleanup();
  });

  async function send(type: string, data: unknown = {}): Promise<string> {
    const id = `${type}-${++n}`;
    const res = await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type, data });
    expect(res.status).toBe(202);
    return id;
  }

  async function settled(fn: string, eventId: string, outcome: "ack" | "dead"): Promise<Invocation[]> {
    return waitFor(
      async () => {
        const list = (await invocations(eddy.url, fn)).filter((i) => i.eventId === eventId);
        return list.some((i) => i.outcome === outcome) && list;
      },
      `${fn} to ${outcome} ${eventId}`,
      30_000,
    );
  }

  it("contains every misbehaving function while a healthy one keeps its latency", async () => {
    // The healthy function's latency alone, then with every misbehaving function running beside it.
    const baseline = await healthyLatencies(10);
    const chaos = ["throw", "reject", "spin", "hog", "exit", "late", "flood"];
    const ids = await Promise.all(chaos.map((type) => send(type)));
    const during = await healthyLatencies(20);

    const [thrown, rejected, spun, hogged, exited, late, flooded] = await Promise.all([
      settled("throws", ids[0]!, "dead"),
      settled("rejects", ids[1]!, "dead"),
      settled("spins", ids[2]!, "dead"),
      settled("hogs", ids[3]!, "dead"),
      settled("exits", ids[4]!, "dead"),
      settled("late-throw", ids[5]!, "ack"),
      settled("floods", ids[6]!, "ack"),
    ]);
    // Thrown and rejected errors are retried per policy, then dead-lettered with the error.
    expect(thrown.map((i) => i.outcome)).toEqual(["dead", "retry"]);
    expect(thrown[0]!.error).toMatchObject({ name: "Error", message: "thrown" });
    expect(rejected[0]!.error).toMatchObject({ name: "TypeError", message: "rejected" });
    // A sync infinite loop is stopped at the timeout; unbounded allocation at the heap limit.
    expect(spun[0]!.error).toMatchObject({ name: "FunctionTimeoutError", code: "EDDY_FUNCTION_TIMEOUT" });
    expect(hogged[0]!.error).toMatchObject({
      name: "FunctionOutOfMemoryError",
      code: "EDDY_FUNCTION_OUT_OF_MEMORY",
      message: "the function exceeded its memory limit of 32 MB",
    });
    expect(exited[0]!.error).toMatchObject({ name: "SandboxCrashedError", code: "EDDY_SANDBOX_CRASHED" });
    expect(exited[0]!.error!.message).toContain("code 3");
    // A throw after returning cannot fail the attempt that already succeeded; it kills the sandbox.
    expect(late.find((i) => i.outcome === "ack")).toBeDefined();
    // Megabytes of logs cost a bounded record.
    const flood = flooded.find((i) => i.outcome === "ack")! as Invocation & { logsTruncated?: boolean };
    expect(flood.logsTruncated).toBe(true);
    expect(JSON.stringify(flood.logs).length).toBeLessThan(100_000);

    // The healthy function ran every event, with a latency of the same order as alone. (Generous:
    // two cores are shared with a thread spinning, a heap filling up and sandboxes restarting.)
    expect(during).toHaveLength(20);
    expect(median(during)).toBeLessThan(Math.max(250, 10 * median(baseline)));
  });

  it("replaces crashed sandboxes: the same function keeps running afterwards", async () => {
    for (const type of ["exit", "spin", "hog"]) await send(type);
    // One at a time: an event dispatched while the previous sandbox is dying fails with it (and is
    // retried), which is the function harming itself; here each one finds a fresh sandbox.
    for (let i = 0; i < 3; i++) await settled("late-throw", await send("late"), "ack");
    const healthy = await healthyLatencies(3);
    expect(healthy).toHaveLength(3);
    const res = await fetch(`${eddy.url}/v1/functions/late-throw`);
    const view = (await res.json()) as { pool: { kind: string; coldStarts: { count: number } } };
    expect(view.pool.kind).toBe(isolation);
    expect(view.pool.coldStarts.count).toBeGreaterThanOrEqual(2);
  });

  /** Sends `count` events to the healthy function, 25 ms apart; resolves their publish → start ms. */
  async function healthyLatencies(count: number): Promise<number[]> {
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      ids.push(await send("healthy", { sentAt: Date.now() }));
      await new Promise((r) => setTimeout(r, 25));
    }
    const done = await waitFor(
      async () => {
        const list = (await invocations(eddy.url, "healthy")).filter((i) => ids.includes(i.eventId));
        return list.filter((i) => i.outcome === "ack").length === count && list;
      },
      "healthy events",
      30_000,
    );
    return done.map((i) => (i.logs[0]!.fields as { ms: number }).ms);
  }
});

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}
