// Async routes over real HTTP: 202 with a status URL that resolves at once, then the result or
// the error; retries per the function's policy; the callback on completion; who may read a status.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp, waitFor } from "./helpers.js";

const KEY = "test-admin-key-0123456789";
const app = tempApp({
  "functions/report.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "report", triggers: [on.http("POST /reports", { mode: "async", public: true, callback: true })] },
  async (request, ctx) => {
    const { month, wait } = await request.json();
    await new Promise((r) => setTimeout(r, wait ?? 0));
    ctx.log.info("report", { month });
    return { month, total: 42 };
  },
);`,
  "functions/flaky.ts": `import { defineFunction, on, NonRetriableError } from "eddy";
export default defineFunction(
  { name: "flaky", triggers: [on.http("POST /flaky", { mode: "async" })],
    retries: { maxAttempts: 2, backoff: { initial: "50ms", jitter: "none" } } },
  async (request, ctx) => {
    if (ctx.invocation.attempt < 2) throw new Error("first attempt fails");
    throw new NonRetriableError("and the second for good");
  },
);`,
  "functions/once.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "once", triggers: [on.http("POST /once", { mode: "async", public: true })], rateLimit: { limit: 1, period: "1m" } },
  async () => "ran",
);`,
});
let eddy: RunningEddy;
let invokeKey: string;

beforeAll(async () => {
  // The callback test's receiver listens on loopback, which callbacks may reach only when allowed.
  eddy = await startTestEddy(app.dir, { adminKey: KEY, gateway: { callbackAllow: ["127.0.0.1"] } });
  const made = await fetch(`${eddy.url}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "invoker", scopes: ["functions:invoke"] }),
  });
  invokeKey = ((await made.json()) as { token: string }).token;
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function status(location: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${eddy.url}${location}`, { headers });
  return { code: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("async routes", () => {
  it("answers 202 with a status URL that resolves at once, then carries the result", async () => {
    const res = await fetch(`${eddy.url}/reports`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ month: "2026-11", wait: 300 }),
    });
    expect(res.status).toBe(202);
    const location = res.headers.get("location")!;
    expect(location).toMatch(/^\/v1\/invocations\/[0-9a-f-]{36}$/);
    expect(await res.json()).toMatchObject({ status: "pending", statusUrl: location });
    const first = await status(location);
    expect(first.code).toBe(200);
    expect(first.body).toMatchObject({ function: "report", route: "POST /reports", status: "pending" });
    const done = await waitFor(async () => {
      const s = await status(location);
      return s.body.status === "succeeded" ? s.body : undefined;
    }, "the report to finish");
    expect(done).toMatchObject({
      attempts: 1,
      result: { status: 200, body: { month: "2026-11", total: 42 } },
    });
    // The attempt's own record has its logs.
    const rec = await status(`/v1/invocations/${String(done.invocationId)}`);
    expect(rec.body).toMatchObject({ fn: "report", logs: [{ msg: "report", fields: { month: "2026-11" } }] });
  });

  it("retries as the function's policy says and ends with the error", async () => {
    const res = await fetch(`${eddy.url}/flaky`, {
      method: "POST",
      headers: { authorization: `Bearer ${invokeKey}` },
    });
    expect(res.status).toBe(202);
    const location = res.headers.get("location")!;
    const failed = await waitFor(async () => {
      const s = await status(location, { authorization: `Bearer ${invokeKey}` });
      return s.body.status === "failed" ? s.body : undefined;
    }, "flaky to fail for good");
    expect(failed).toMatchObject({
      attempts: 2,
      error: { name: "NonRetriableError", message: "and the second for good" },
    });
  });

  it("lets only the route's callers read a private request's status", async () => {
    const res = await fetch(`${eddy.url}/flaky`, {
      method: "POST",
      headers: { authorization: `Bearer ${invokeKey}` },
    });
    const location = res.headers.get("location")!;
    expect((await status(location)).code).toBe(401);
    expect((await status(location, { authorization: `Bearer ${invokeKey}` })).code).toBe(200);
  });

  it("calls the callback URL on completion", async () => {
    const received: Record<string, unknown>[] = [];
    const hook = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        received.push(JSON.parse(body) as Record<string, unknown>);
        res.end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/done`;
      const res = await fetch(`${eddy.url}/reports`, {
        method: "POST",
        headers: { "content-type": "application/json", "eddy-callback": url },
        body: JSON.stringify({ month: "2026-12" }),
      });
      expect(res.status).toBe(202);
      const got = await waitFor(() => received[0], "the callback");
      expect(got).toMatchObject({ status: "succeeded", result: { body: { month: "2026-12" } } });
      expect(got.id).toBe(res.headers.get("eddy-request-id"));
    } finally {
      hook.close();
    }
  });

  it("says skipped, with the reason, when the function's own rate limit drops a request", async () => {
    const send = async () => (await fetch(`${eddy.url}/once`, { method: "POST" })).headers.get("location")!;
    const [first, second] = [await send(), await send()];
    const done = (location: string) =>
      waitFor(async () => {
        const s = await status(location);
        return s.body.status !== "pending" ? s.body : undefined;
      }, "the request to settle");
    expect(await done(first)).toMatchObject({ status: "succeeded", result: { body: "ran" } });
    expect(await done(second)).toMatchObject({
      status: "skipped",
      reason: expect.stringContaining("rateLimit"),
    });
  });

  it("refuses a callback on a route that does not take one", async () => {
    const res = await fetch(`${eddy.url}/flaky`, {
      method: "POST",
      headers: { authorization: `Bearer ${invokeKey}`, "eddy-callback": "http://127.0.0.1:1/x" },
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: "EDDY_INVALID_REQUEST" });
  });
});
