// Deeply nested values: refused at ingest (one by one in a batch), and where one gets past (stored
// before the limit, or from a sandbox) it fails that attempt with a typed error, never the server —
// not even after a restart with it still waiting in the queue. Real server, real sandboxes.
import { afterAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import type { Invocation } from "./helpers.js";
import { fnSource, getJson, invocations, post, startTestEddy, tempApp, useEddy, waitFor } from "./helpers.js";

/** JSON of `levels` arrays nested in one another (JSON.stringify could not write the deep ones). */
function nested(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}

const NESTED = `(n) => { let v = []; for (let i = 1; i < n; i++) v = [v]; return v; }`;

/** A structured event's JSON; `data` is JSON text. */
function event(id: string, type: string, data = "{}"): string {
  return `{"specversion":"1.0","id":"${id}","source":"/poison","type":"${type}","data":${data}}`;
}

describe("ingest", () => {
  const server = useEddy(tempApp({ "functions/ok.ts": fnSource("ok", { type: ["ok"] }) }));

  it("refuses an event nested deeper than 64 levels with a problem naming the limit", async () => {
    // The event object is level 1, so data may nest 63 levels.
    expect((await post(`${server().url}/v1/events`, event("at-limit", "ok", nested(63)))).status).toBe(202);
    for (const levels of [64, 3_500, 20_000]) {
      const res = await post(`${server().url}/v1/events`, event(`deep-${levels}`, "ok", nested(levels)));
      expect(res.status).toBe(400);
      expect(res.type).toContain("application/problem+json");
      expect(res.body).toMatchObject({ code: "EDDY_EVENT_TOO_DEEP", errors: [{ path: "data" }] });
      expect(res.body.detail).toContain("64 levels");
    }
  });

  it("refuses only the nested event of a batch; the others are accepted", async () => {
    const batch = `[${event("b1", "ok")},${event("b2", "ok", nested(5_000))},${event("b3", "ok")}]`;
    const res = await post(`${server().url}/v1/events`, batch, {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(res.status).toBe(207);
    const results = res.body.results as { id: string; status: string; problem?: { code: string } }[];
    expect(results.map((r) => [r.id, r.status, r.problem?.code])).toEqual([
      ["b1", "accepted", undefined],
      ["b2", "rejected", "EDDY_EVENT_TOO_DEEP"],
      ["b3", "accepted", undefined],
    ]);
  });

  it("refuses a queue message nested deeper than 64 levels", async () => {
    const json = { "content-type": "application/json" };
    expect(
      (await fetch(`${server().url}/v1/queues/poison`, { method: "PUT", headers: json, body: "{}" })).ok,
    ).toBe(true);
    const res = await post(`${server().url}/v1/queues/poison/messages`, `{"body":${nested(5_000)}}`, json);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: "EDDY_INVALID_MESSAGE" });
    expect(res.body.detail).toContain("64 levels");
  });
});

describe.each(["thread", "process"] as const)("%s sandboxes", (isolation) => {
  const iso = `isolation: "${isolation}"`;
  const app = tempApp({
    "functions/deep.ts": fnSource(
      "deep",
      { type: ["deep"] },
      "",
      `${iso}, retries: { maxAttempts: 3, backoff: { initial: "1s", jitter: "none" } }`,
    ),
    "functions/ok.ts": fnSource("ok", { type: ["ok"] }, "", iso),
    "functions/returns-deep.ts": fnSource(
      "returns-deep",
      { type: ["returns-deep"] },
      `return (${NESTED})(event.data.levels);`,
      `${iso}, retries: { maxAttempts: 1 }, timeout: "30s"`,
    ),
  });
  let eddy: RunningEddy | undefined;
  afterAll(async () => {
    await eddy?.close();
    app.cleanup();
  });

  async function firstFailure(url: string, fn: string, id: string): Promise<Invocation> {
    return waitFor(
      async () => (await invocations(url, fn)).find((i) => i.eventId === id && i.status === "failed"),
      `a failed attempt of ${fn} on ${id}`,
      20_000,
    );
  }

  it("fails each attempt of a stored poison event, dead-letters it, and survives a restart", async () => {
    // A server that lets it in (as one did before the limit existed): the event is stored. 3,800
    // levels: JSON.stringify (the store) writes it, structured clone and IPC (~3,300 here) do not.
    eddy = await startTestEddy(app.dir, { maxEventDepth: 100_000 });
    const sent = await post(`${eddy.url}/v1/events`, event("poison", "deep", nested(3_800)));
    expect(sent.status).toBe(202);
    const first = await firstFailure(eddy.url, "deep", "poison");
    expect(first.error).toMatchObject({ name: "SandboxHandOffError", code: "EDDY_SANDBOX_HANDOFF_FAILED" });
    await eddy.close();

    // Restarted with the delivery still due: it runs out its attempts into the DLQ, and the server serves.
    eddy = await startTestEddy(app.dir);
    const url = eddy.url;
    const dead = await waitFor(
      async () =>
        (
          await getJson<{ deadLetters: { id: string; event: { id: string } }[] }>(
            `${url}/v1/dlq/functions/deep`,
          )
        ).deadLetters[0],
      "the poison event in the DLQ",
      20_000,
    );
    expect(dead.event.id).toBe("poison");
    const shown = await getJson<{ error: { code: string }; history: { attempt: number }[] }>(
      `${url}/v1/dlq/functions/deep/${dead.id}`,
    );
    expect(shown.error.code).toBe("EDDY_SANDBOX_HANDOFF_FAILED");
    expect(shown.history.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect((await post(`${url}/v1/events`, event("after", "ok"))).status).toBe(202);
    await waitFor(async () => (await invocations(url, "ok")).some((i) => i.outcome === "ack"), "ok to run");
  });

  it.each([100, 3_500, 20_000])("fails an attempt whose result nests %i levels, with why", async (levels) => {
    const url = eddy!.url;
    const id = `result-${levels}`;
    expect((await post(`${url}/v1/events`, event(id, "returns-deep", `{"levels":${levels}}`))).status).toBe(
      202,
    );
    const failed = await firstFailure(url, "returns-deep", id);
    expect(failed.error).toMatchObject({ name: "InvalidResultError", code: "EDDY_INVALID_RESULT" });
  });
});
