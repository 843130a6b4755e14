// The API gateway over real HTTP with real sandboxes: routes, parameters, bodies of every kind,
// Response or plain values, failures and timeouts, HEAD and 405, emits, and route conflicts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { invocations, startTestEddy, tempApp, waitFor } from "./helpers.js";

const route = (name: string, routes: string, body: string, extra = "") => `
import { defineFunction, on } from "eddy";
export default defineFunction({ name: ${JSON.stringify(name)}, triggers: [${routes}] ${extra} }, async (request, ctx) => { ${body} });
`;

const app = tempApp({
  "functions/hello.ts": route(
    "hello",
    `on.http("GET /hello", { public: true })`,
    `return { hello: "world" };`,
  ),
  "functions/echo.ts": route(
    "echo",
    `on.http("ANY /echo/:id/*", { public: true })`,
    `const bytes = new Uint8Array(await request.arrayBuffer());
     const url = new URL(request.url);
     return { method: request.method, params: ctx.params, q: url.searchParams.getAll("q"), ct: request.headers.get("content-type"),
              x: request.headers.get("x-thing"), route: ctx.route, requestId: ctx.requestId, size: bytes.length,
              first: bytes[0] ?? null, last: bytes[bytes.length - 1] ?? null,
              text: request.headers.get("content-type")?.startsWith("text/") ? new TextDecoder().decode(bytes) : null };`,
  ),
  "functions/form.ts": route(
    "form",
    `on.http("POST /form", { public: true })`,
    `const f = await request.formData(); return { name: f.get("name") };`,
  ),
  "functions/custom.ts": route(
    "custom",
    `on.http("GET /teapot", { public: true }), on.http("GET /nothing", { public: true }), on.http("GET /png", { public: true })`,
    `if (ctx.route === "GET /nothing") return undefined;
     if (ctx.route === "GET /png") return new Response(new Uint8Array([137, 80, 78, 71, 0, 255]), { headers: { "content-type": "image/png" } });
     return new Response("short and stout", { status: 418, headers: { "x-pot": "tea", "content-type": "text/plain" } });`,
  ),
  "functions/broken.ts": route(
    "broken",
    `on.http("GET /broken", { public: true }), on.http("GET /slow", { public: true, timeout: "300ms" })`,
    `if (ctx.route === "GET /slow") { await new Promise((r) => setTimeout(r, 5000)); return 1; }
     throw new Error("secret detail");`,
  ),
  "functions/emitter.ts": route(
    "emitter",
    `on.http("POST /orders", { public: true })`,
    `const order = await request.json(); await ctx.emit({ type: "order.placed", data: order }); return new Response(null, { status: 201 });`,
  ),
  "functions/listener.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "listener", triggers: [on.event({ type: ["order.placed"] })] }, async (e, ctx) => { ctx.log.info("got", { id: e.data.id }); });`,
  "functions/private.ts": route("private", `on.http("GET /private")`, `return "secret";`),
  "functions/isolated.ts": route(
    "isolated",
    `on.http("POST /isolated/:id", { public: true })`,
    `const body = new Uint8Array(await request.arrayBuffer());
     return new Response(body, { status: 201, headers: { "content-type": "application/octet-stream", "x-id": ctx.params.id } });`,
    `, isolation: "process"`,
  ),
  "functions/zclash.ts": route("zclash", `on.http("get /hello")`, `return 1;`),
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function call(path: string, init: RequestInit = {}) {
  const res = await fetch(`${eddy.url}${path}`, init);
  const buf = Buffer.from(await res.arrayBuffer());
  const type = res.headers.get("content-type") ?? "";
  const body = /json/.test(type) ? (JSON.parse(buf.toString()) as Record<string, unknown>) : buf;
  return { status: res.status, headers: res.headers, body, raw: buf };
}

describe("gateway routes", () => {
  it("runs a route in its sandbox and sends a plain value as JSON", async () => {
    const r = await call("/hello");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/json/);
    expect(r.body).toEqual({ hello: "world" });
    expect(r.headers.get("eddy-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("refuses a route that clashes with another function's, naming both", () => {
    const f = eddy.failures.find((x) => x.file.endsWith("zclash.ts"));
    expect(f?.message).toBe(
      'function zclash: route GET /hello conflicts with GET /hello of function "hello": a request could match both; change one path or method',
    );
  });

  it("gives the handler a web-standard Request: params, query, headers, JSON body", async () => {
    const r = await call("/echo/42/a/b?q=1&q=2", {
      method: "PUT",
      headers: { "content-type": "application/json", "x-thing": "yes" },
      body: JSON.stringify({ a: 1 }),
    });
    expect(r.body).toMatchObject({
      method: "PUT",
      params: { id: "42", "*": "a/b" },
      q: ["1", "2"],
      ct: "application/json",
      x: "yes",
      route: "ANY /echo/:id/*",
      size: 7,
    });
    expect((r.body as { requestId: string }).requestId).toBe(r.headers.get("eddy-request-id"));
  });

  it("carries text and binary bodies intact", async () => {
    const text = await call("/echo/1/t", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "héllo",
    });
    expect(text.body).toMatchObject({ text: "héllo", size: 6 });
    const bytes = Buffer.from([0, 1, 2, 255, 254, 0x80]);
    const bin = await call("/echo/1/b", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(bin.body).toMatchObject({ size: 6, first: 0, last: 0x80 });
  });

  it("reads form bodies", async () => {
    const r = await call("/form", { method: "POST", body: new URLSearchParams({ name: "Ada" }) });
    expect(r.body).toEqual({ name: "Ada" });
  });

  it("sends a Response as it is: status, headers, text or bytes; undefined is 204", async () => {
    const tea = await call("/teapot");
    expect([tea.status, tea.headers.get("x-pot"), tea.raw.toString()]).toEqual([
      418,
      "tea",
      "short and stout",
    ]);
    const png = await call("/png");
    expect([...png.raw]).toEqual([137, 80, 78, 71, 0, 255]);
    expect((await call("/nothing")).status).toBe(204);
  });

  it("answers HEAD from the GET route, without a body", async () => {
    const r = await fetch(`${eddy.url}/teapot`, { method: "HEAD" });
    expect(r.status).toBe(418);
    expect(r.headers.get("content-length")).toBe("15");
    expect((await r.arrayBuffer()).byteLength).toBe(0);
  });

  it("answers 405 with Allow for a known path, and the API's 404 elsewhere", async () => {
    const r = await call("/hello", { method: "DELETE" });
    expect(r.status).toBe(405);
    expect(r.headers.get("allow")).toBe("GET, HEAD");
    expect(r.body).toMatchObject({ code: "EDDY_METHOD_NOT_ALLOWED" });
    const missing = await call("/nowhere");
    expect([missing.status, (missing.body as { code: string }).code]).toEqual([404, "EDDY_NOT_FOUND"]);
    expect((await call("/v1/functions")).status).toBe(200);
  });

  it("answers 502 when the function throws, without its message, and records the attempt", async () => {
    const r = await call("/broken");
    expect(r.status).toBe(502);
    expect(r.headers.get("content-type")).toBe("application/problem+json");
    expect(r.body).toMatchObject({ code: "EDDY_FUNCTION_FAILED" });
    expect(JSON.stringify(r.body)).not.toContain("secret detail");
    const id = (r.body as { invocationId: string }).invocationId;
    const rec = await waitFor(async () => {
      const res = await fetch(`${eddy.url}/v1/invocations/${id}`);
      return res.ok ? ((await res.json()) as { status: string; error: { message: string } }) : undefined;
    }, "the failed request's record");
    expect(rec).toMatchObject({ status: "failed", error: { message: "secret detail" } });
  });

  it("answers 504 when the function does not answer within the route's timeout", async () => {
    const t0 = Date.now();
    const r = await call("/slow");
    expect(r.status).toBe(504);
    expect(r.body).toMatchObject({ code: "EDDY_GATEWAY_TIMEOUT" });
    expect(Date.now() - t0).toBeLessThan(3_000);
  });

  it("publishes what a successful request emitted before answering, in the caller's trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const r = await call("/orders", {
      method: "POST",
      headers: { "content-type": "application/json", traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ id: "o-1" }),
    });
    expect(r.status).toBe(201);
    const run = await waitFor(
      async () => (await invocations(eddy.url, "listener")).find((i) => i.logs[0]?.fields?.id === "o-1"),
      "the listener to get the emitted event",
    );
    const rec = (await (await fetch(`${eddy.url}/v1/invocations/${run.id}`)).json()) as {
      trace: { traceId: string };
    };
    expect(rec.trace.traceId).toBe(traceId);
  });

  it("runs routes in process sandboxes too, bytes intact", async () => {
    const bytes = Buffer.from([255, 0, 1, 2, 128]);
    const r = await call("/isolated/7", {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(r.status).toBe(201);
    expect(r.headers.get("x-id")).toBe("7");
    expect([...r.raw]).toEqual([...bytes]);
  });

  it("keeps private routes private", async () => {
    const r = await call("/private");
    expect(r.status).toBe(401);
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
    expect(r.body).toMatchObject({ code: "EDDY_UNAUTHORIZED" });
  });
});
