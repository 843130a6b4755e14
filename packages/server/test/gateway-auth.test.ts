// Auth over real HTTP: API keys (stored hashed, scoped, revocable), JWTs (HS256 and a JWKS with
// ES256), the scopes of the API and of routes, and the three modes of startEddy.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bundleFunctions, jwtVerifier } from "@eddy/server";
import { ManualClock } from "@eddy/server/testing";
import { startTestEddy, tempApp } from "./helpers.js";

const ADMIN = "test-admin-key-0123456789";
const SECRET = "a-jwt-secret-of-at-least-32-characters!";
const fn = (name: string, route: string) => `import { defineFunction, on } from "eddy";
export default defineFunction({ name: ${JSON.stringify(name)}, triggers: [${route}] },
  async (request) => ({ auth: request.headers.get("authorization") }));`;
const app = tempApp({
  "functions/orders.ts": fn("orders", `on.http("GET /orders", { scopes: ["orders:read"] })`),
  "functions/admin-only.ts": fn("admin-only", `on.http("GET /internal")`),
  "functions/status.ts": fn("status", `on.http("GET /status", { public: true })`),
});
let eddy: RunningEddy;
let jwks: ReturnType<typeof createServer>;
let es256: CryptoKey;

const call = (path: string, token?: string, init: RequestInit = {}) =>
  fetch(`${eddy.url}${path}`, {
    ...init,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.headers as Record<string, string>),
    },
  });
async function code(res: Response) {
  return [res.status, ((await res.json()) as { code?: string }).code];
}
async function key(scopes: string[], expiresIn?: string) {
  const res = await call("/v1/keys", ADMIN, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: `k-${scopes.join("+")}`, scopes, ...(expiresIn ? { expiresIn } : {}) }),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { token: string; key: { id: string } };
}
const hs = (claims: Record<string, unknown>, secret = SECRET) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setIssuer("https://issuer.test")
    .setAudience("eddy")
    .setExpirationTime((claims.exp as number | undefined) ?? "5m")
    .sign(new TextEncoder().encode(secret));
const event = { specversion: "1.0", id: "e1", source: "/t", type: "t" };
const publish = (token?: string) =>
  call("/v1/events", token, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ ...event, id: `e-${Math.random()}` }),
  });

// API keys expire on it (JWTs are checked by jose, on real time).
const clock = new ManualClock();

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, {
    clock,
    adminKey: ADMIN,
    auth: "all",
    jwt: { secret: SECRET, issuer: "https://issuer.test", audience: "eddy" },
  });
});
afterAll(async () => {
  await eddy?.close();
  jwks?.close();
  app.cleanup();
});

describe("API keys and scopes (auth: all)", () => {
  it("refuses the API without a key or with a wrong one; health stays open", async () => {
    expect(await code(await publish())).toEqual([401, "EDDY_UNAUTHORIZED"]);
    expect(await code(await publish("eddy_000000000000_" + "x".repeat(43)))).toEqual([
      401,
      "EDDY_UNAUTHORIZED",
    ]);
    expect(await code(await call("/v1/functions", "not-a-key"))).toEqual([401, "EDDY_UNAUTHORIZED"]);
    expect((await call("/healthz")).status).toBe(200);
  });

  it("holds scopes: a publish key publishes and nothing else", async () => {
    const { token } = await key(["events:publish"]);
    expect((await publish(token)).status).toBe(202);
    expect(await code(await call("/v1/functions", token))).toEqual([403, "EDDY_FORBIDDEN"]);
    expect(await code(await call("/orders", token))).toEqual([403, "EDDY_FORBIDDEN"]);
    expect((await call("/v1/functions", ADMIN)).status).toBe(200);
  });

  it("lists keys without their secrets and revokes them at once", async () => {
    const { token, key: k } = await key(["functions:invoke"]);
    expect((await call("/internal", token)).status).toBe(200);
    const list = (await (await call("/v1/keys", ADMIN)).json()) as { keys: Record<string, unknown>[] };
    const listed = list.keys.find((x) => x.id === k.id)!;
    expect(listed).toMatchObject({ scopes: ["functions:invoke"] });
    expect(JSON.stringify(list)).not.toContain(token.slice(-43));
    expect(listed.hash).toBeUndefined();
    expect((await call(`/v1/keys/${k.id}`, ADMIN, { method: "DELETE" })).status).toBe(204);
    expect(await code(await call("/internal", token))).toEqual([401, "EDDY_UNAUTHORIZED"]);
  });

  it("expires keys", async () => {
    const { token } = await key(["functions:invoke"], "1500ms");
    expect((await call("/internal", token)).status).toBe(200);
    await clock.advance(1_499);
    expect((await call("/internal", token)).status).toBe(200);
    await clock.advance(1);
    expect((await call("/internal", token)).status).toBe(401);
  });

  it("gives a route's own scope access to that route only, and keeps API keys from the function", async () => {
    const { token } = await key(["orders:read"]);
    const res = await call("/orders", token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ auth: null });
    expect(await code(await call("/internal", token))).toEqual([403, "EDDY_FORBIDDEN"]);
    expect((await call("/status")).status).toBe(200);
    // Sent to a public route, an Eddy key is still kept from the function.
    expect(await (await call("/status", token)).json()).toEqual({ auth: null });
    expect(await code(await call("/orders"))).toEqual([401, "EDDY_UNAUTHORIZED"]);
  });

  it("refuses a bad key request with 400 EDDY_INVALID_REQUEST naming the field", async () => {
    const post = (body: unknown) =>
      call("/v1/keys", ADMIN, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const [body, field] of [
      [{ name: "", scopes: ["admin"] }, "name"],
      [{ name: "k", scopes: [] }, "scopes"],
      [{ name: "k", scopes: ["admin"], expiresIn: "soon" }, "expiresIn"],
    ] as const) {
      const res = await post(body);
      const doc = (await res.json()) as { code: string; detail: string };
      expect([res.status, doc.code]).toEqual([400, "EDDY_INVALID_REQUEST"]);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(doc.detail).toContain(field);
    }
  });

  it("only lets the admin scope manage keys", async () => {
    const { token } = await key(["functions:invoke", "events:publish"]);
    expect(await code(await call("/v1/keys", token))).toEqual([403, "EDDY_FORBIDDEN"]);
  });
});

describe("deploys", () => {
  it("refuses an upload whose route clashes with a running function's, naming both, and changes nothing", async () => {
    const src = tempApp({
      "functions/orders.ts": fn("orders", `on.http("GET /orders", { scopes: ["orders:read"] })`),
      "functions/thief.ts": fn("thief", `on.http("GET /internal")`),
      "functions/status.ts": fn("status", `on.http("GET /status", { public: true })`),
      "functions/admin-only.ts": fn("admin-only", `on.http("GET /internal")`),
    });
    try {
      const files = ["orders", "thief", "status", "admin-only"].map((f) =>
        join(src.dir, "functions", `${f}.ts`),
      );
      const { bundles } = await bundleFunctions(src.dir, files, join(src.dir, "out"));
      const res = await call("/v1/deploy", ADMIN, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          functions: bundles.map((b) => ({ file: b.file, code: readFileSync(b.path, "utf8") })),
        }),
      });
      expect(res.status).toBe(422);
      const body = (await res.json()) as { code: string; errors: { message: string }[] };
      expect(body.code).toBe("EDDY_DEPLOY_FAILED");
      expect(body.errors.map((e) => e.message).join("\n")).toContain(
        'function thief: route GET /internal conflicts with GET /internal of function "admin-only"',
      );
      expect((await call("/v1/routes", ADMIN).then((r) => r.json())) as object).toMatchObject({
        routes: expect.not.arrayContaining([expect.objectContaining({ function: "thief" })]),
      });
    } finally {
      src.cleanup();
    }
  });
});

describe("JWTs", () => {
  it("accepts a valid HS256 token with its scopes, and passes it to the function", async () => {
    const token = await hs({ sub: "ada", scope: "orders:read other" });
    const res = await call("/orders", token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ auth: `Bearer ${token}` });
    expect(await code(await call("/internal", token))).toEqual([403, "EDDY_FORBIDDEN"]);
  });

  it("refuses a bad signature, an expired token, another audience", async () => {
    const claims = { sub: "ada", scp: ["functions:invoke"] };
    expect((await call("/internal", await hs(claims))).status).toBe(200);
    expect((await call("/internal", await hs(claims, "another-secret-of-more-than-32-chars!!"))).status).toBe(
      401,
    );
    expect(
      (await call("/internal", await hs({ ...claims, exp: Math.floor(Date.now() / 1000) - 120 }))).status,
    ).toBe(401);
    const other = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer("https://issuer.test")
      .setAudience("someone-else")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(SECRET));
    expect((await call("/internal", other)).status).toBe(401);
  });

  it("verifies RS256 tokens with a PEM public key, and only those", async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    const verify = jwtVerifier({ publicKey: await exportSPKI(pair.publicKey), audience: "eddy" });
    const sign = (key: CryptoKey, aud = "eddy") =>
      new SignJWT({ sub: "svc", scope: "functions:invoke" })
        .setProtectedHeader({ alg: "RS256" })
        .setAudience(aud)
        .setExpirationTime("5m")
        .sign(key);
    expect(await verify(await sign(pair.privateKey))).toMatchObject({ id: "jwt:svc" });
    expect(await verify(await sign(pair.privateKey, "other"))).toBeUndefined();
    const stranger = await generateKeyPair("RS256");
    expect(await verify(await sign(stranger.privateKey))).toBeUndefined();
    // An HS256 token "signed" with the public key is refused: the algorithm is pinned.
    expect(await verify(await hs({ sub: "x" }))).toBeUndefined();
  });

  it("verifies ES256 tokens against a JWKS endpoint", async () => {
    const pair = await generateKeyPair("ES256");
    es256 = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    jwks = createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
    await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", r));
    const jwksApp = tempApp({ "functions/status.ts": fn("private", `on.http("GET /p")`) });
    const other = await startTestEddy(jwksApp.dir, {
      jwt: { jwksUrl: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json` },
    });
    try {
      const token = await new SignJWT({ scope: "functions:invoke" })
        .setProtectedHeader({ alg: "ES256", kid: "k1" })
        .setExpirationTime("5m")
        .sign(es256);
      expect((await fetch(`${other.url}/p`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
        200,
      );
      expect((await fetch(`${other.url}/p`, { headers: { authorization: `Bearer ${token}x` } })).status).toBe(
        401,
      );
      // auth "routes" (the default): the API is open, private routes are not.
      expect((await fetch(`${other.url}/v1/functions`)).status).toBe(200);
      expect((await fetch(`${other.url}/p`)).status).toBe(401);
    } finally {
      await other.close();
      jwksApp.cleanup();
    }
  });
});

describe("auth: none", () => {
  it("opens private routes and the API (eddy dev)", async () => {
    const devApp = tempApp({ "functions/p.ts": fn("p", `on.http("GET /p")`) });
    const dev = await startTestEddy(devApp.dir, { auth: "none" });
    try {
      expect((await fetch(`${dev.url}/p`)).status).toBe(200);
    } finally {
      await dev.close();
      devApp.cleanup();
    }
  });
});
