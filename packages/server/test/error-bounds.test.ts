// Errors a function throws are cut to documented sizes before they are stored, dead-lettered,
// logged or answered over HTTP, whatever their message, stack, name, code, properties or cause; and
// the server applies the same bounds to what a process sandbox's code sends it directly.
import { describe, expect, it } from "vitest";
import type { Invocation } from "./helpers.js";
import { fnSource, getJson, invocations, post, tempApp, useEddy, waitFor } from "./helpers.js";

const once = `retries: { maxAttempts: 1 }`;
// Room for the marker "…[truncated N characters]".
const MARKER = 40;

/** A process sandbox's code posting protocol messages itself, for the first attempts of its sandbox. */
function forge(message: string): string {
  return `for (const id of ["1", "2", "3"]) process.send({ id, ${message} });
    await new Promise((r) => setTimeout(r, 20_000));`;
}

describe.each(["thread", "process"] as const)("%s sandboxes", (isolation) => {
  const iso = `isolation: "${isolation}"`;
  const server = useEddy(
    tempApp({
      "functions/huge.ts": fnSource(
        "huge",
        { type: ["huge"] },
        `throw new Error("x".repeat(20_000_000));`,
        `${iso}, ${once}`,
      ),
      "functions/props.ts": fnSource(
        "props",
        { type: ["props"] },
        `const e = new Error("with props");
         e.cause = e;
         e.big = "y".repeat(5_000_000);
         e.name = "N".repeat(1_000_000);
         e.code = "C".repeat(1_000_000);
         throw e;`,
        `${iso}, ${once}`,
      ),
      "functions/thrown-object.ts": fnSource(
        "thrown-object",
        { type: ["object"] },
        `throw { message: "m".repeat(5_000_000) };`,
        `${iso}, ${once}`,
      ),
      "functions/route.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "route", triggers: [on.http("GET /huge", { public: true })], ${iso} },
  async () => { throw new Error("z".repeat(20_000_000)); },
);`,
      "functions/forged-error.ts": fnSource(
        "forged-error",
        { type: ["forged-error"] },
        forge(`t: "result", ok: false, logs: [], logsTruncated: false, error: {
          name: "Forged", message: "m".repeat(5_000_000), stack: "s".repeat(5_000_000),
          extra: "e".repeat(5_000_000), retryAfterMs: "soon" }`),
        `isolation: "process", ${once}, timeout: "30s"`,
      ),
      "functions/forged-graph.ts": fnSource(
        "forged-graph",
        { type: ["forged-graph"] },
        // 2^22 leaves as JSON, from a few dozen objects: JSON.stringify would write 12 MB of it.
        `let v = [1]; for (let i = 0; i < 22; i++) v = [v, v];
         ${forge(`t: "result", ok: true, emits: [], sends: [], logs: [], logsTruncated: false, result: v`)}`,
        `isolation: "process", ${once}, timeout: "30s"`,
      ),
    }),
    // As under `eddy dev`: a failed route answers with the function's error message.
    { auth: "none" },
  );

  async function failedOnce(type: string): Promise<Invocation> {
    const url = server().url;
    const id = `${type}-${isolation}`;
    const res = await post(`${url}/v1/events`, { specversion: "1.0", id, source: "/errors", type, data: {} });
    expect(res.status).toBe(202);
    const fn = type === "object" ? "thrown-object" : type;
    return waitFor(
      async () => (await invocations(url, fn)).find((i) => i.eventId === id && i.outcome === "dead"),
      `${fn} to dead-letter ${id}`,
      20_000,
    );
  }

  it("cuts a giant message and stack in the record, the DLQ entry and the listing", async () => {
    const inv = await failedOnce("huge");
    const error = inv.error as { message: string; stack?: string };
    expect(error.message.length).toBeLessThanOrEqual(8_192 + MARKER);
    expect(error.message).toMatch(/…\[truncated \d+ characters\]$/);
    expect(error.stack!.length).toBeLessThanOrEqual(16_384 + MARKER);
    const url = server().url;
    const dead = await getJson<{ deadLetters: { error: { message: string } }[] }>(
      `${url}/v1/dlq/functions/huge`,
    );
    expect(dead.deadLetters[0]!.error.message.length).toBeLessThanOrEqual(8_192 + MARKER);
    const listing = await fetch(`${url}/v1/invocations?limit=100`);
    expect(listing.status).toBe(200);
    expect((await listing.text()).length).toBeLessThan(500_000);
  });

  it("keeps a giant name and code cut, and drops custom properties and a cyclic cause", async () => {
    const inv = await failedOnce("props");
    const error = inv.error as Record<string, string>;
    expect(Object.keys(error).sort()).toEqual(["code", "message", "name", "stack"]);
    expect(error.name!.length).toBeLessThanOrEqual(256 + MARKER);
    expect(error.code!.length).toBeLessThanOrEqual(256 + MARKER);
    expect(error.message).toBe("with props");
    expect(JSON.stringify(error).length).toBeLessThan(20_000);
  });

  it("cuts the message of a thrown non-Error", async () => {
    const inv = await failedOnce("object");
    expect(inv.error!.message.length).toBeLessThanOrEqual(8_192 + MARKER);
  });

  it("answers a synchronous route whose function throws a giant error with a bounded problem", async () => {
    const res = await fetch(`${server().url}/huge`);
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    const body = await res.text();
    expect(body).toContain("zzz");
    expect(body.length).toBeLessThan(20_000);
  });

  // Only a process sandbox's code can send over the channel itself (process.send): a thread's code
  // has no such handle, so these two cases run on the process variant only (reported as skipped).
  it.runIf(isolation === "process")(
    "bounds an error a process sandbox's code sends itself, keeping only known fields",
    async () => {
      const inv = await failedOnce("forged-error");
      const error = inv.error as unknown as Record<string, unknown>;
      expect(Object.keys(error).sort()).toEqual(["message", "name", "stack"]);
      expect(JSON.stringify(error).length).toBeLessThan(8_192 + 16_384 + 2 * MARKER + 100);
    },
  );

  it.runIf(isolation === "process")(
    "refuses a result a process sandbox's code sends that would expand exponentially",
    async () => {
      const inv = await failedOnce("forged-graph");
      expect(inv.error).toMatchObject({ name: "InvalidResultError", code: "EDDY_INVALID_RESULT" });
    },
  );
});
