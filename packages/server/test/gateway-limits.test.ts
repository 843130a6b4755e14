// Validation, limits, CORS, the response cache, rate limits, OpenAPI and the route prefix, over
// real HTTP with real sandboxes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { ManualClock } from "@eddy/server/testing";
import { startTestEddy, tempApp, waitFor } from "./helpers.js";

const fn = (name: string, route: string, body: string) => `import { defineFunction, on } from "eddy";
let n = 0;
export default defineFunction({ name: ${JSON.stringify(name)}, triggers: [${route}] }, async (request, ctx) => { n++; ${body} });`;
const app = tempApp({
  "functions/create.ts": fn(
    "create",
    `on.http("POST /items", { public: true, maxBody: "1kb", summary: "Create an item",
      schema: {
        body: { type: "object", required: ["name", "qty"], additionalProperties: false,
                properties: { name: { type: "string", minLength: 1 }, qty: { type: "integer", minimum: 1 },
                              tags: { type: "array", items: { type: "string" } } } },
        query: { type: "object", properties: { dry: { type: "boolean" }, limit: { type: "integer", maximum: 10 } } } } })`,
    `const item = await request.json(); return { ...item, dry: new URL(request.url).searchParams.get("dry") };`,
  ),
  "functions/cors.ts": fn(
    "cors",
    `on.http("GET /cors", { public: true, cors: { origins: ["https://app.example"], credentials: true, maxAge: "10m", exposeHeaders: ["x-n"] } }),
     on.http("PUT /cors", { public: true, cors: { origins: ["https://app.example"], credentials: true } })`,
    `return new Response("ok", { headers: { "x-n": String(n) } });`,
  ),
  "functions/cached.ts": fn(
    "cached",
    `on.http("GET /cached/:id", { public: true, cache: { ttl: "2s", headers: ["accept-language"] } })`,
    `const url = new URL(request.url);
     if (url.searchParams.get("nostore")) return new Response(String(n), { headers: { "cache-control": "no-store" } });
     return { n, id: ctx.params.id, lang: request.headers.get("accept-language") };`,
  ),
  "functions/big.ts": fn(
    "big",
    `on.http("GET /big/:n", { public: true })`,
    `return "x".repeat(Number(ctx.params.n));`,
  ),
  "functions/limited.ts": fn(
    "limited",
    `on.http("GET /limited", { public: true, rateLimit: { limit: 2, period: "1m", by: "ip" } })`,
    `return n;`,
  ),
});
let eddy: RunningEddy;
// Cache lifetimes and rate-limit buckets are counted on it: the test moves time, it does not wait.
const clock = new ManualClock();

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { gateway: { maxResponseBytes: 4096 }, clock });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

const json = async (res: Response) => (await res.json()) as Record<string, unknown>;
const post = (path: string, body: string, type = "application/json") =>
  fetch(`${eddy.url}${path}`, { method: "POST", headers: { "content-type": type }, body });

describe("validation and limits", () => {
  it("passes a valid body and query to the function", async () => {
    const res = await post("/items?dry=true", JSON.stringify({ name: "pen", qty: 2 }));
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ name: "pen", qty: 2, dry: "true" });
  });

  it("lists each failing path of the body and the query", async () => {
    const res = await post("/items", JSON.stringify({ name: "", qty: 0, tags: ["a", 3], extra: 1 }));
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe("EDDY_INVALID_REQUEST");
    const paths = (body.errors as { path: string }[]).map((e) => e.path).sort();
    expect(paths).toEqual(["body.extra", "body.name", "body.qty", "body.tags[1]"]);
    const q = await json(await post("/items?limit=50&dry=maybe", JSON.stringify({ name: "a", qty: 1 })));
    expect((q.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(["query.dry", "query.limit"]);
  });

  it("refuses bad JSON, a body that is not JSON, and a body over the route's limit", async () => {
    expect((await json(await post("/items", "{nope"))).code).toBe("EDDY_INVALID_JSON");
    expect((await json(await post("/items", "name=a", "application/x-www-form-urlencoded"))).code).toBe(
      "EDDY_UNSUPPORTED_MEDIA_TYPE",
    );
    const big = await post("/items", JSON.stringify({ name: "x".repeat(2000), qty: 1 }));
    expect(big.status).toBe(413);
    expect((await json(big)).code).toBe("EDDY_PAYLOAD_TOO_LARGE");
  });
});

describe("response limit", () => {
  it("fails a response over the gateway's limit with 502, and records why", async () => {
    expect((await fetch(`${eddy.url}/big/4000`)).status).toBe(200);
    const res = await fetch(`${eddy.url}/big/5000`);
    expect(res.status).toBe(502);
    const { invocationId } = (await json(res)) as { invocationId: string };
    const rec = await waitFor(async () => {
      const r = await fetch(`${eddy.url}/v1/invocations/${invocationId}`);
      return r.ok ? ((await r.json()) as { error: { name: string; code?: string } }) : undefined;
    }, "the record");
    expect(rec.error.name).toBe("ResponseTooLargeError");
    expect(rec.error.code).toBe("EDDY_RESPONSE_TOO_LARGE");
  });
});

describe("CORS", () => {
  it("answers a preflight for an allowed origin, and nothing for another", async () => {
    const pre = await fetch(`${eddy.url}/cors`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "x-a",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(pre.headers.get("access-control-allow-methods")).toBe("GET, HEAD, PUT");
    expect(pre.headers.get("access-control-allow-headers")).toBe("x-a");
    expect(pre.headers.get("access-control-allow-credentials")).toBe("true");
    const evil = await fetch(`${eddy.url}/cors`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "GET" },
    });
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds the headers to actual responses", async () => {
    const res = await fetch(`${eddy.url}/cors`, { headers: { origin: "https://app.example" } });
    expect(res.headers.get("access-control-allow-origin")).toBe("https://app.example");
    expect(res.headers.get("access-control-expose-headers")).toBe("x-n");
    expect(res.headers.get("vary")).toContain("origin");
  });
});

describe("response cache", () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${eddy.url}${path}`, { headers });

  it("serves a hit without running the function, keyed by path, query and listed headers", async () => {
    const a = await get("/cached/1?x=1");
    expect(a.headers.get("x-cache")).toBe("MISS");
    const first = await json(a);
    const b = await get("/cached/1?x=1");
    expect(b.headers.get("x-cache")).toBe("HIT");
    expect(await json(b)).toEqual(first);
    expect((await get("/cached/1?x=2")).headers.get("x-cache")).toBe("MISS");
    expect((await get("/cached/2?x=1")).headers.get("x-cache")).toBe("MISS");
    expect((await get("/cached/1?x=1", { "accept-language": "fr" })).headers.get("x-cache")).toBe("MISS");
  });

  it("honours Cache-Control both ways, expires after the TTL, and can be invalidated", async () => {
    await get("/cached/3");
    const fresh = await get("/cached/3", { "cache-control": "no-cache" });
    expect(fresh.headers.get("x-cache")).toBe("MISS");
    await get("/cached/4?nostore=1");
    expect((await get("/cached/4?nostore=1")).headers.get("x-cache")).toBe("MISS");
    expect((await get("/cached/3")).headers.get("x-cache")).toBe("HIT");
    const dropped = await fetch(`${eddy.url}/v1/cache?function=cached&path=/cached/3`, { method: "DELETE" });
    expect(await json(dropped)).toEqual({ invalidated: 1 });
    expect((await get("/cached/3")).headers.get("x-cache")).toBe("MISS");
    await clock.advance(1_999);
    const old = await get("/cached/3");
    expect([old.headers.get("x-cache"), old.headers.get("age")]).toEqual(["HIT", "1"]);
    await clock.advance(1); // the TTL (2 s) is over
    expect((await get("/cached/3")).headers.get("x-cache")).toBe("MISS");
  });
});

describe("rate limits", () => {
  it("answers 429 with Retry-After once the bucket is empty", async () => {
    expect((await fetch(`${eddy.url}/limited`)).status).toBe(200);
    expect((await fetch(`${eddy.url}/limited`)).status).toBe(200);
    const third = await fetch(`${eddy.url}/limited`);
    expect(third.status).toBe(429);
    // 2 per minute: the next token comes in 30 s.
    expect(third.headers.get("retry-after")).toBe("30");
    expect((await json(third)).code).toBe("EDDY_RATE_LIMITED");
    await clock.advance(29_999);
    expect((await fetch(`${eddy.url}/limited`)).status).toBe(429);
    await clock.advance(1);
    expect((await fetch(`${eddy.url}/limited`)).status).toBe(200);
  });
});

describe("OpenAPI", () => {
  it("describes the routes: paths, parameters, schemas, security", async () => {
    const doc = await json(await fetch(`${eddy.url}/v1/openapi.json`));
    expect(doc.openapi).toBe("3.1.0");
    const paths = doc.paths as Record<string, Record<string, Record<string, unknown>>>;
    expect(Object.keys(paths).sort()).toEqual(["/big/{n}", "/cached/{id}", "/cors", "/items", "/limited"]);
    const create = paths["/items"]!.post!;
    expect(create).toMatchObject({
      operationId: "create",
      summary: "Create an item",
      security: [],
      requestBody: { content: { "application/json": { schema: { required: ["name", "qty"] } } } },
    });
    expect((create.parameters as { name: string; in: string }[]).map((p) => `${p.in}:${p.name}`)).toEqual([
      "query:dry",
      "query:limit",
    ]);
    expect(paths["/cached/{id}"]!.get!.parameters).toEqual([
      { name: "id", in: "path", required: true, schema: { type: "string" } },
    ]);
    expect(Object.keys(paths["/limited"]!.get!.responses as object)).toContain("429");
  });
});

describe("route prefix", () => {
  it("mounts routes under the prefix and nowhere else", async () => {
    const other = await startTestEddy(app.dir, {
      dataDir: `${app.dir}/.eddy-prefix`,
      gateway: { prefix: "/api" },
    });
    try {
      expect((await fetch(`${other.url}/api/limited`)).status).toBe(200);
      expect((await fetch(`${other.url}/limited`)).status).toBe(404);
    } finally {
      await other.close();
    }
  });
});

describe("metrics", () => {
  it("counts requests by route and status, and cache hits and misses", async () => {
    await fetch(`${eddy.url}/cached/m`);
    await fetch(`${eddy.url}/cached/m`);
    const text = await (await fetch(`${eddy.url}/metrics`)).text();
    expect(text).toMatch(/eddy_http_requests_total\{route="GET \/cached\/:id",status="200"\} \d+/);
    expect(text).toMatch(/eddy_http_requests_total\{route="GET \/limited",status="429"\} [1-9]/);
    expect(text).toMatch(/eddy_http_cache_total\{route="GET \/cached\/:id",result="hit"\} [1-9]/);
    expect(text).toMatch(/eddy_http_request_duration_seconds_count\{route="POST \/items"\} [1-9]/);
  });
});
