import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CloudEvent, CONSTANTS, emitterFor, httpTransport, Mode } from "cloudevents";
import type { RunningEddy } from "@eddy/server";
import { drained, fnSource, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

// Three functions with distinct patterns; each test checks which of them ran.
const app = tempApp({
  "functions/paid.ts": fnSource("paid", { type: ["order.paid"] }, `ctx.log.info("paid", { id: event.id });`),
  "functions/big.ts": fnSource(
    "big",
    { type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } },
    `ctx.log.info("big", { total: event.data.total });`,
  ),
  "functions/shipped.ts": fnSource("shipped", { type: [{ prefix: "order.ship" }] }),
});
let eddy: RunningEddy;
let url: string;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
  url = eddy.url;
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function ranFor(fn: string, eventId: string) {
  return (await invocations(url, fn)).filter((i) => i.eventId === eventId && i.status === "succeeded").length;
}

describe("POST /v1/events with the official cloudevents SDK", () => {
  it("structured mode runs every matching function and no other", async () => {
    const emit = emitterFor(httpTransport(`${url}/v1/events`), { mode: Mode.STRUCTURED });
    const ce = new CloudEvent({ type: "order.paid", source: "/sdk/structured", data: { total: 250 } });
    await emit(ce);
    await waitFor(
      async () => (await ranFor("paid", ce.id)) === 1 && (await ranFor("big", ce.id)) === 1,
      "paid+big",
    );
    expect(await ranFor("shipped", ce.id)).toBe(0);
  });

  it("binary mode runs every matching function and no other", async () => {
    const emit = emitterFor(httpTransport(`${url}/v1/events`), { mode: Mode.BINARY });
    const ce = new CloudEvent({ type: "order.paid", source: "/sdk/binary", data: { total: 5 } });
    await emit(ce);
    await waitFor(async () => (await ranFor("paid", ce.id)) === 1, "paid");
    // Deliveries are written with the event, before the 202: a wrong dispatch would be queued or have run.
    await waitFor(
      async () => (await drained(url, "big")) && (await drained(url, "shipped")),
      "big and shipped drained",
    );
    expect(await ranFor("big", ce.id)).toBe(0);
    expect(await ranFor("shipped", ce.id)).toBe(0);
    const [inv] = (await invocations(url, "paid")).filter((i) => i.eventId === ce.id);
    expect(inv!.logs[0]).toMatchObject({ level: "info", msg: "paid", fields: { id: ce.id } });
  });

  it("batch mode accepts every event and reports each one", async () => {
    const events = [
      new CloudEvent({ type: "order.paid", source: "/sdk/batch", data: { total: 1000 } }),
      new CloudEvent({ type: "order.shipped", source: "/sdk/batch", data: {} }),
      new CloudEvent({ type: "order.cancelled", source: "/sdk/batch" }),
    ];
    const res = await post(`${url}/v1/events`, JSON.stringify(events.map((e) => e.toJSON())), {
      "content-type": CONSTANTS.MIME_CE_BATCH,
    });
    expect(res.status).toBe(202);
    expect(res.body.results).toEqual(
      // routed: paid and big take the first, shipped the second, nothing the third.
      events.map((e, index) => ({
        index,
        id: e.id,
        source: "/sdk/batch",
        status: "accepted",
        routed: [2, 1, 0][index],
      })),
    );
    await waitFor(
      async () =>
        (await ranFor("paid", events[0]!.id)) === 1 &&
        (await ranFor("big", events[0]!.id)) === 1 &&
        (await ranFor("shipped", events[1]!.id)) === 1,
      "batch deliveries",
    );
  });
});

describe("POST /v1/events deduplication", () => {
  it("accepts a repeated source+id once and runs it once", async () => {
    const event = {
      specversion: "1.0",
      id: "dup-1",
      source: "/dedup",
      type: "order.paid",
      data: { total: 1 },
    };
    const first = await post(`${url}/v1/events`, event);
    const second = await post(`${url}/v1/events`, event);
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect((second.body.results as { status: string }[])[0]!.status).toBe("duplicate");
    await waitFor(async () => (await ranFor("paid", "dup-1")) === 1, "one run");
    // A second delivery would have been written with the duplicate, before its 202: none is left to run.
    await waitFor(() => drained(url, "paid"), "paid drained");
    expect((await invocations(url, "paid")).filter((i) => i.eventId === "dup-1")).toHaveLength(1);
  });

  it("treats the same id from another source as another event", async () => {
    const a = await post(`${url}/v1/events`, { specversion: "1.0", id: "same", source: "/a", type: "x" });
    const b = await post(`${url}/v1/events`, { specversion: "1.0", id: "same", source: "/b", type: "x" });
    expect([a.body.results, b.body.results].map((r) => (r as { status: string }[])[0]!.status)).toEqual([
      "accepted",
      "accepted",
    ]);
  });
});

describe("POST /v1/events refusals are problem+json naming the problem", () => {
  const valid = { specversion: "1.0", id: "ok", source: "/refusals", type: "t" };

  it("bad JSON → 400 EDDY_INVALID_JSON", async () => {
    const res = await post(`${url}/v1/events`, '{"specversion": "1.0",', {
      "content-type": "application/cloudevents+json",
    });
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect(res.body).toMatchObject({ status: 400, code: "EDDY_INVALID_JSON", title: "Malformed JSON" });
    expect(res.body.detail).toMatch(/not valid JSON/);
  });

  it("missing required attribute → 400 naming it", async () => {
    const { type: _omit, ...noType } = valid;
    const res = await post(`${url}/v1/events`, noType);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("EDDY_INVALID_EVENT");
    expect(res.body.errors).toEqual([{ path: "type", message: 'required attribute "type" is missing' }]);
  });

  it("wrong specversion → 400 naming specversion", async () => {
    const res = await post(`${url}/v1/events`, { ...valid, specversion: "0.3" });
    expect(res.status).toBe(400);
    expect((res.body.errors as { path: string }[])[0]!.path).toBe("specversion");
    expect(res.body.detail).toMatch(/unsupported specversion "0.3"/);
  });

  it("bad time, bad extension name, data with data_base64 → each named", async () => {
    const res = await post(`${url}/v1/events`, {
      ...valid,
      time: "yesterday",
      Bad_Name: 1,
      data: {},
      data_base64: "AA==",
    });
    expect(res.status).toBe(400);
    expect((res.body.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      "Bad_Name",
      "data_base64",
      "time",
    ]);
  });

  it("oversize event → 413 EDDY_EVENT_TOO_LARGE", async () => {
    const res = await post(`${url}/v1/events`, { ...valid, id: "big", data: "x".repeat(300 * 1024) });
    expect(res.status).toBe(413);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.code).toBe("EDDY_EVENT_TOO_LARGE");
  });

  it("oversize body → 413 EDDY_PAYLOAD_TOO_LARGE", async () => {
    const res = await post(`${url}/v1/events`, { ...valid, data: "x".repeat(5 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe("EDDY_PAYLOAD_TOO_LARGE");
  });

  it("unsupported media type → 415", async () => {
    const res = await post(`${url}/v1/events`, "hello", { "content-type": "text/plain" });
    expect(res.status).toBe(415);
    expect(res.body.code).toBe("EDDY_UNSUPPORTED_MEDIA_TYPE");
  });

  it("a partly bad batch accepts the good items (207) and reports the bad ones", async () => {
    const res = await post(
      `${url}/v1/events`,
      [
        { ...valid, id: "batch-good" },
        { ...valid, id: "batch-bad", specversion: "2.0" },
      ],
      { "content-type": "application/cloudevents-batch+json" },
    );
    expect(res.status).toBe(207);
    const results = res.body.results as { status: string; problem?: { errors: { path: string }[] } }[];
    expect(results.map((r) => r.status)).toEqual(["accepted", "rejected"]);
    expect(results[1]!.problem!.errors[0]!.path).toBe("specversion");
  });

  it("a batch with no good item → 400 problem listing each item", async () => {
    const res = await post(`${url}/v1/events`, [{ ...valid, id: 5 }, "nope"], {
      "content-type": "application/cloudevents-batch+json",
    });
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect((res.body.errors as { path: string }[]).map((e) => e.path)).toEqual(["[0].id", "[1]"]);
  });

  it("unknown route → 404 problem", async () => {
    const res = await fetch(`${url}/v1/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  it("keeps serving after all of the above", async () => {
    const res = await post(`${url}/v1/events`, { ...valid, id: "after" });
    expect(res.status).toBe(202);
  });
});

describe("POST /v1/patterns/test", () => {
  it("answers whether a pattern matches", async () => {
    const res = await post(
      `${url}/v1/patterns/test`,
      {
        pattern: { type: ["a"], data: { n: [{ numeric: [">=", 3] }] } },
        event: { type: "a", data: { n: 3 } },
      },
      { "content-type": "application/json" },
    );
    expect(res).toMatchObject({ status: 200, body: { matches: true } });
  });

  it("refuses an invalid pattern with 400 naming the path", async () => {
    const res = await post(
      `${url}/v1/patterns/test`,
      { pattern: { data: { n: [{ numerc: [">", 1] }] } }, event: { type: "a" } },
      { "content-type": "application/json" },
    );
    expect(res.status).toBe(400);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.code).toBe("EDDY_INVALID_PATTERN");
    expect(res.body.detail).toMatch(/^data\.n\[0\]/);
    expect(res.body.detail).toMatch(/numerc/);
  });
});
