import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import {
  advanceUntil,
  getJson,
  invocations,
  post,
  startTestEddy,
  tempApp,
  testClock,
  waitFor,
} from "./helpers.js";

const app = tempApp({
  // Consumes "work": logs each body; on a batch of up to 5, reports the items whose body says fail.
  "functions/worker.ts": `import { defineBatchFunction, on } from "eddy";
export default defineBatchFunction(
  { name: "worker", triggers: [on.queue("work", { batchSize: 5, batchWindow: "100ms" })],
    retries: { maxAttempts: 3, backoff: { initial: "50ms", jitter: "none" } } },
  async (events, ctx) => {
    ctx.log.info("batch", { bodies: events.map((e) => e.data) });
    return { batchItemFailures: events.filter((e) => e.data.fail && ctx.invocation.attempt < 2).map((e) => ({ itemIdentifier: e.id })) };
  },
);
`,
  // A bus function that forwards each event to the "outbox" queue with ctx.send.
  "functions/forwarder.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "forwarder", triggers: [on.event({ type: ["forward.me"] })] },
  async (event, ctx) => { await ctx.send("outbox", { from: event.id }); },
);
`,
});
let eddy: RunningEddy;
let url: string;
const json = { "content-type": "application/json" };
// Visibility timeouts, delays and long polls are counted on it (on the cluster, real time: see
// testClock; there a test waits for the same signals instead).
const clock = testClock();

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { clock });
  url = eddy.url;
  await fetch(`${url}/v1/queues/outbox`, { method: "PUT", headers: json, body: "{}" });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

const put = (name: string, attrs: unknown) =>
  fetch(`${url}/v1/queues/${name}`, { method: "PUT", headers: json, body: JSON.stringify(attrs) });
const sendMsg = (name: string, m: unknown) => post(`${url}/v1/queues/${name}/messages`, m, json);
const receive = async (name: string, opts: unknown = {}) =>
  (await post(`${url}/v1/queues/${name}/receive`, opts, json)).body.messages as {
    messageId: string;
    body: { n?: number; g?: string };
    receiptHandle: string;
    receiveCount: number;
    groupId?: string;
  }[];
const del = (name: string, receipt: string) =>
  fetch(`${url}/v1/queues/${name}/messages/${encodeURIComponent(receipt)}`, { method: "DELETE" });

describe("standard queues", () => {
  it("sends, receives, hides while received, and deletes", async () => {
    expect((await put("jobs", { visibilityTimeout: "300ms" })).status).toBe(200);
    const sent = await sendMsg("jobs", { body: { n: 1 } });
    expect(sent.status).toBe(202);
    const [m] = await receive("jobs");
    expect(m).toMatchObject({ body: { n: 1 }, receiveCount: 1 });
    expect(await receive("jobs")).toEqual([]);
    await clock?.advance(299);
    if (clock) expect(await receive("jobs")).toEqual([]);
    await clock?.advance(1);
    const [again] = await waitFor(async () => {
      const got = await receive("jobs");
      return got.length > 0 && got;
    }, "the message to be visible again");
    expect(again).toMatchObject({ messageId: m!.messageId, receiveCount: 2 });
    // The first receipt no longer holds the message.
    expect((await del("jobs", m!.receiptHandle)).status).toBe(409);
    expect((await del("jobs", again!.receiptHandle)).status).toBe(204);
    expect(await receive("jobs")).toEqual([]);
  });

  it("changes visibility: 0 makes a message visible at once", async () => {
    await sendMsg("jobs", { body: { n: 2 } });
    const [m] = await receive("jobs", { visibilityTimeout: "1m" });
    const res = await post(
      `${url}/v1/queues/jobs/messages/${encodeURIComponent(m!.receiptHandle)}/visibility`,
      { timeout: 0 },
      json,
    );
    expect(res.status).toBe(204);
    const [again] = await receive("jobs");
    expect(again!.messageId).toBe(m!.messageId);
    await del("jobs", again!.receiptHandle);
  });

  it("delays messages", async () => {
    await sendMsg("jobs", { body: { n: 3 }, delay: "200ms" });
    expect(await receive("jobs")).toEqual([]);
    const waiting = receive("jobs", { wait: "2s" });
    // A long poll looks again every 250 ms for messages that become visible by time.
    await clock?.whenArmed(clock.now() + 250);
    await clock?.advance(250);
    const got = await waiting;
    expect(got.map((m) => m.body.n)).toEqual([3]);
    await del("jobs", got[0]!.receiptHandle);
  });

  it("long-polls: a receive waiting for a message gets it when it is sent", async () => {
    const waiting = receive("jobs", { wait: "5s" });
    // The receive waits (its look-again timer is armed). Time stands still from here on, so only
    // the send's wake-up can answer it: the timer never fires.
    await clock?.whenArmed(clock.now() + 250);
    await sendMsg("jobs", { body: { n: 4 } });
    const got = await Promise.race([
      waiting,
      waitFor<never>(() => undefined, "the long poll to be woken by the send", 5_000),
    ]);
    expect(got.map((m) => m.body.n)).toEqual([4]);
    await del("jobs", got[0]!.receiptHandle);
  });

  it("dead-letters a message received more than maxReceiveCount times", async () => {
    await put("flaky", { visibilityTimeout: "50ms", maxReceiveCount: 2 });
    await sendMsg("flaky", { body: { n: 5 } });
    const dead = async () =>
      (
        await getJson<{ deadLetters: { error: { name: string; code: string } }[] }>(
          `${url}/v1/dlq/queues/flaky`,
        )
      ).deadLetters;
    expect(await receive("flaky")).toHaveLength(1);
    await clock?.advance(50);
    await waitFor(async () => (await receive("flaky")).length === 1, "the second receive");
    await clock?.advance(50);
    // The third receive finds it over maxReceiveCount: dead-lettered instead of handed out.
    await waitFor(
      async () => (await receive("flaky")).length === 0 && (await dead()).length === 1,
      "the dead letter",
    );
    expect((await dead()).map((d) => [d.error.name, d.error.code])).toEqual([
      ["MaxReceiveCountError", "EDDY_MAX_RECEIVE_COUNT"],
    ]);
  });

  it("refuses unknown queues and bad messages with problem+json", async () => {
    const missing = await sendMsg("nope", { body: 1 });
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("EDDY_QUEUE_NOT_FOUND");
    const noBody = await sendMsg("jobs", { nobody: 1 });
    expect(noBody.status).toBe(400);
    expect(noBody.body.code).toBe("EDDY_INVALID_MESSAGE");
    const badName = await put("bad name", {});
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { code: string }).code).toBe("EDDY_INVALID_QUEUE");
  });
});

describe("FIFO queues", () => {
  it("delivers in order per group, one in flight per group", async () => {
    await put("orders.fifo", {});
    const m = (g: string, n: number) => ({ body: { g, n }, groupId: g });
    await sendMsg("orders.fifo", { messages: [m("a", 1), m("a", 2), m("b", 1), m("a", 3), m("b", 2)] });
    const first = await receive("orders.fifo", { max: 10 });
    expect(first.map((x) => `${x.body.g}${x.body.n}`)).toEqual(["a1", "b1"]);
    for (const x of first) await del("orders.fifo", x.receiptHandle);
    const second = await receive("orders.fifo", { max: 10 });
    expect(second.map((x) => `${x.body.g}${x.body.n}`)).toEqual(["a2", "b2"]);
    for (const x of second) await del("orders.fifo", x.receiptHandle);
    const third = await receive("orders.fifo", { max: 10 });
    expect(third.map((x) => `${x.body.g}${x.body.n}`)).toEqual(["a3"]);
    await del("orders.fifo", third[0]!.receiptHandle);
  });

  it("deduplicates by dedupId, and needs a groupId", async () => {
    const a = await sendMsg("orders.fifo", { body: 1, groupId: "g", dedupId: "same" });
    const b = await sendMsg("orders.fifo", { body: 2, groupId: "g", dedupId: "same" });
    expect((a.body.results as { status: string }[])[0]!.status).toBe("accepted");
    expect((b.body.results as { status: string }[])[0]!.status).toBe("duplicate");
    const got = await receive("orders.fifo", { max: 10 });
    expect(got.map((x) => x.body)).toEqual([1]);
    await del("orders.fifo", got[0]!.receiptHandle);
    const noGroup = await sendMsg("orders.fifo", { body: 3 });
    expect(noGroup.status).toBe(400);
    expect(noGroup.body.detail).toMatch(/needs a groupId/);
  });
});

describe("queues and functions", () => {
  it("runs a queue-triggered batch function; only reported items are retried", async () => {
    await sendMsg("work", {
      messages: [{ body: { n: 1 } }, { body: { n: 2, fail: true } }, { body: { n: 3 } }],
    });
    // The batch window (100 ms), the retry's backoff (50 ms), the window again.
    const runs = await advanceUntil(
      clock,
      50,
      async () => {
        const l = (await invocations(url, "worker")).reverse();
        const seen = l.flatMap((i) =>
          (i.logs[0]?.fields as { bodies: { n: number }[] }).bodies.map((b) => b.n),
        );
        return seen.filter((n) => n === 2).length === 2 && l;
      },
      "the failed item to be retried once",
    );
    const batches = runs.map((i) =>
      (i.logs[0]!.fields as { bodies: { n: number }[] }).bodies.map((b) => b.n),
    );
    expect(batches[0]!.sort()).toEqual([1, 2, 3]);
    expect(batches.slice(1).flat()).toEqual([2]);
    const counts = await getJson<{ messages: { ready: number; leased: number } }>(`${url}/v1/queues/work`);
    expect(counts.messages).toMatchObject({ ready: 0, leased: 0 });
  });

  it("ctx.send publishes to a queue when the attempt succeeds", async () => {
    const res = await post(`${url}/v1/events`, {
      specversion: "1.0",
      id: "fw-1",
      source: "/q",
      type: "forward.me",
    });
    expect(res.status).toBe(202);
    const got = await receive("outbox", { wait: "5s" });
    expect(got.map((m) => m.body)).toEqual([{ from: "fw-1" }]);
  });
});
