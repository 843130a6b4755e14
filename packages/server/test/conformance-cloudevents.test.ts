// The CloudEvents HTTP binding, checked against cloudevents/conformance's requests and the
// refusals derived from CloudEvents 1.0's rules (../shared/conformance/cloudevents-cases.json):
// each request is sent to POST /v1/events of a running server; an accepted one must reach a
// function as the event the case expects, a refused one must be answered 4xx problem+json.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { readConformance } from "./conformance.js";
import { invocations, startTestEddy, tempApp, waitFor } from "./helpers.js";

interface Case {
  id: string;
  mode: "binary" | "structured";
  request: { headers: [string, string][]; body: string };
  expect:
    | { accept: false; why: string }
    | {
        accept: true;
        attributes: Record<string, string>;
        extensions: Record<string, string>;
        data?: string;
        dataJson?: unknown;
      };
}

type Accepted = Extract<Case["expect"], { accept: true }>;
const { cases } = readConformance<{ cases: Case[] }>("cloudevents-cases.json");
const app = tempApp({
  "functions/capture.js": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "capture", triggers: [on.event({ specversion: ["1.0"] })], retries: { maxAttempts: 1 } },
  async (event) => { console.log(JSON.stringify(event)); },
);`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  // Cases reuse ids (4321-4321-4321 …): without deduplication each one runs and can be checked.
  eddy = await startTestEddy(app.dir, { dedupWindowMs: 0 });
  expect(eddy.failures).toEqual([]);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

const ATTRIBUTES = new Set([
  "specversion",
  "id",
  "source",
  "type",
  "subject",
  "time",
  "datacontenttype",
  "dataschema",
]);

/**
 * The data of an event the same as the case's. The suite records data as the bytes sent; Eddy
 * keeps JSON data parsed, text as text, and bytes of no known type (no content type) as bytes, in
 * `data_base64` as the CloudEvents JSON format writes binary data.
 */
function sameData(event: Record<string, unknown>, mode: Case["mode"], c: Accepted): void {
  if (c.dataJson !== undefined) return void expect(event.data).toEqual(c.dataJson);
  if (typeof event.data_base64 === "string") {
    return void expect(Buffer.from(event.data_base64, "base64").toString("utf8")).toBe(c.data);
  }
  const type = c.attributes.datacontenttype;
  // The JSON format implies application/json where datacontenttype is absent.
  const json = type === undefined ? mode === "structured" : /[/+]json(;|$)/.test(type);
  if (json) expect(event.data).toEqual(JSON.parse(c.data!));
  else expect(event.data).toBe(c.data);
}

describe("CloudEvents conformance (HTTP binding)", () => {
  for (const c of cases) {
    it(`${c.id}: ${c.expect.accept ? "accepted as the event it describes" : `refused (${c.expect.why})`}`, async () => {
      const before = (await invocations(eddy.url, "capture")).length;
      const res = await fetch(`${eddy.url}/v1/events`, {
        method: "POST",
        headers: c.request.headers,
        // Bytes, not a string: fetch would add "content-type: text/plain" to a string body.
        body: Buffer.from(c.request.body),
      });
      const expected = c.expect;
      if (!expected.accept) {
        expect(res.status, await res.text()).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
        return;
      }
      expect(res.status, await res.text()).toBe(202);
      const runs = await waitFor(async () => {
        const all = await invocations(eddy.url, "capture");
        return all.length > before && all;
      }, `the capture of ${c.id}`);
      const event = JSON.parse(runs[0]!.logs[0]!.msg) as Record<string, unknown>;
      // The trace context is Eddy's own, added to every event it runs.
      const { data: _data, data_base64: _bytes, traceparent: _trace, ...rest } = event;
      const attributes = Object.fromEntries(Object.entries(rest).filter(([k]) => ATTRIBUTES.has(k)));
      const extensions = Object.fromEntries(Object.entries(rest).filter(([k]) => !ATTRIBUTES.has(k)));
      expect(attributes).toEqual(expected.attributes);
      expect(extensions).toEqual(expected.extensions);
      sameData(event, c.mode, expected);
    });
  }
});
