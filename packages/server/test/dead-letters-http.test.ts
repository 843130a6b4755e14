import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import {
  advanceWhenArmed,
  deployBody,
  fnSource,
  getJson,
  invocations,
  post,
  startTestEddy,
  tempApp,
  testClock,
  waitFor,
} from "./helpers.js";

// The first version of "picky" fails every event, with one attempt only: every event is
// dead-lettered at once. The fix deployed later fails only events marked broken, so a redrive
// succeeds for the others — the way a DLQ is used, and with no clock in the test to race.
const picky = (body: string) =>
  fnSource("picky", { type: [{ prefix: "picky." }] }, body, `retries: { maxAttempts: 1 }`);
const aged = fnSource(
  "aged",
  { type: ["aged"] },
  `throw new Error("always");`,
  `retries: { maxAttempts: 10, backoff: { initial: "100ms", factor: 1, jitter: "none" }, maxEventAge: "250ms" }`,
);
// Succeeds unless the event says otherwise, then goes straight to the dead-letter queue.
const mostly = fnSource(
  "mostly",
  { type: ["mostly"] },
  `if (event.data.fail) throw new NonRetriableError("failed: " + event.id);`,
);
const app = tempApp({
  "functions/picky.ts": picky(`throw new TypeError("not yet: " + event.id);`),
  "functions/mostly.ts": mostly,
  "functions/aged.ts": aged,
});
const KEY = "test-admin-key-dlq-0123456789";
let eddy: RunningEddy;
let url: string;
// maxEventAge is counted on it (on the cluster, real time: see testClock).
const clock = testClock();

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { adminKey: KEY, clock });
  url = eddy.url;
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function send(type: string, id: string, data: Record<string, unknown> = {}) {
  const res = await post(`${url}/v1/events`, { specversion: "1.0", id, source: "/dlq", type, data });
  expect(res.status).toBe(202);
}

async function dead(fn: string, query = ""): Promise<{ id: string; event: { id: string; type: string } }[]> {
  return (
    await getJson<{ deadLetters: { id: string; event: { id: string; type: string } }[] }>(
      `${url}/v1/dlq/functions/${fn}${query}`,
    )
  ).deadLetters;
}

describe("dead-letter queue over HTTP", () => {
  it("lists, inspects with every attempt, and redrives one, a filter, then all", async () => {
    await send("picky.a", "d1");
    await send("picky.b", "d2");
    await send("picky.a", "d3");
    await send("picky.c", "d4", { broken: true });
    const list = await waitFor(async () => {
      const l = await dead("picky");
      return l.length === 4 && l;
    }, "four dead letters");
    expect(list.map((d) => d.event.id)).toEqual(["d1", "d2", "d3", "d4"]);
    expect((await getJson<{ functions: Record<string, number> }>(`${url}/v1/dlq`)).functions.picky).toBe(4);

    const shown = await getJson<{ error: { name: string }; history: { attempt: number; status: string }[] }>(
      `${url}/v1/dlq/functions/picky/${list[0]!.id}`,
    );
    expect(shown.error.name).toBe("TypeError");
    expect(shown.history.map((a) => [a.attempt, a.status])).toEqual([[1, "failed"]]);
    expect((await dead("picky", "?eventType=picky.a")).map((d) => d.event.id)).toEqual(["d1", "d3"]);

    // The fix: only events marked broken still fail.
    const fix = await deployBody({
      "functions/picky.ts": picky(`if (event.data.broken) throw new TypeError("still broken: " + event.id);`),
      "functions/mostly.ts": mostly,
      "functions/aged.ts": aged,
    });
    const deployed = await post(`${url}/v1/deploy`, fix, { ...json, authorization: `Bearer ${KEY}` });
    expect(deployed.status).toBe(200);
    const one = await post(`${url}/v1/dlq/functions/picky/redrive`, { ids: [list[0]!.id] }, json);
    expect(one.body).toEqual({ redriven: 1 });
    const byType = await post(`${url}/v1/dlq/functions/picky/redrive`, { eventType: "picky.b" }, json);
    expect(byType.body).toEqual({ redriven: 1 });
    await waitFor(async () => {
      const ok = (await invocations(url, "picky"))
        .filter((i) => i.status === "succeeded")
        .map((i) => i.eventId);
      return ok.includes("d1") && ok.includes("d2");
    }, "redriven events to succeed");

    // A redriven delivery keeps its history: both attempts are on record under the same delivery.
    const history = (await invocations(url, "picky")).filter((i) => i.eventId === "d1");
    expect(history.map((i) => i.status)).toEqual(["succeeded", "failed"]);

    const all = await post(`${url}/v1/dlq/functions/picky/redrive`, { all: true }, json);
    expect(all.body).toEqual({ redriven: 2 });
    await waitFor(async () => (await dead("picky")).length === 1, "d4 to fail again");
    expect((await dead("picky"))[0]!.event.id).toBe("d4");
  });

  it("shows a dead letter's own attempts only, after many deliveries were acked and deleted", async () => {
    // One at a time, so that the queue is empty between them: a store that reused the ids of
    // deleted deliveries gave each of these the same id, and their attempts to the dead letter.
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      const id = `ok-${i}`;
      expect(
        (await post(`${url}/v1/events`, { specversion: "1.0", id, source: "/dlq", type: "mostly", data: {} }))
          .status,
      ).toBe(202);
      await waitFor(
        async () =>
          (await invocations(url, "mostly")).some((x) => x.eventId === id && x.status === "succeeded"),
        `${id} to succeed`,
      );
      acked.push(id);
    }
    const ev = { specversion: "1.0", id: "bad-1", source: "/dlq", type: "mostly", data: { fail: true } };
    expect((await post(`${url}/v1/events`, ev)).status).toBe(202);
    const [letter] = await waitFor(async () => {
      const l = await dead("mostly");
      return l.length === 1 && l;
    }, "the dead letter");
    const shown = await getJson<{ history: { eventId: string; deliveryId: string }[] }>(
      `${url}/v1/dlq/functions/mostly/${letter!.id}`,
    );
    expect(shown.history.map((a) => a.eventId)).toEqual(["bad-1"]);
    const ids = (await invocations(url, "mostly")).map((x) => (x as { deliveryId?: string }).deliveryId);
    expect(new Set(ids).size).toBe(acked.length + 1);
  });

  it("refuses an action that does not say which dead letters", async () => {
    const res = await post(`${url}/v1/dlq/functions/picky/purge`, {}, json);
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.detail).toMatch(/"all": true/);
  });

  it("purges", async () => {
    const before = await dead("picky");
    expect(before.length).toBeGreaterThan(0);
    const res = await post(`${url}/v1/dlq/functions/picky/purge`, { all: true }, json);
    expect(res.body).toEqual({ purged: before.length });
    expect(await dead("picky")).toEqual([]);
  });

  it("dead-letters a delivery older than maxEventAge instead of retrying it", async () => {
    const sentAt = clock?.now();
    await send("aged", "old-1");
    const failed = async () => (await invocations(url, "aged")).filter((i) => i.status === "failed");
    // Attempts at 0, 100 and 200 ms fail; the retry due at 300 ms is over maxEventAge (250 ms).
    for (let n = 1; clock && n <= 3; n++) {
      await waitFor(async () => (await failed()).length === n, `attempt ${n}`);
      await advanceWhenArmed(clock, 100);
    }
    const [d] = await waitFor(async () => {
      const l = await eddy.engine.backend.deadLetters.list("aged", { limit: 1 });
      return l.length === 1 && l;
    }, "aged dead letter");
    expect(d!.error).toMatchObject({ name: "EventTooOldError", code: "EDDY_EVENT_TOO_OLD" });
    expect(d!.error.message).toMatch(/over retries.maxEventAge \(250 ms\)/);
    const runs = await failed();
    if (sentAt !== undefined) {
      expect(runs.map((i) => i.startedAt - sentAt).sort((a, b) => a - b)).toEqual([0, 100, 200]);
      expect(d!.error.message).toMatch(/^the delivery is 300 ms old/);
    } else {
      // Real time (cluster): how many attempts fit depends on the machine (on a loaded one even
      // the first admission can come after 250 ms), so only the upper bound holds.
      expect(runs.length).toBeLessThanOrEqual(4);
    }
  });

  it("shows leased and overdue deliveries in the admin view", async () => {
    const res = await getJson<{ deliveries: unknown[] }>(`${url}/v1/deliveries?state=overdue`);
    expect(res.deliveries).toEqual([]);
    const bad = await fetch(`${url}/v1/deliveries?state=stuck`);
    expect(bad.status).toBe(400);
  });
});

const json = { "content-type": "application/json" };
