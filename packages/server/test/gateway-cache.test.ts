// The response cache over real HTTP: a HEAD request never stores what a GET then serves, and a
// private route's cache is per caller unless the route shares it explicitly.
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp } from "./helpers.js";

const SECRET = "a-jwt-secret-of-at-least-32-characters!";
const fn = (name: string, route: string) => `import { defineFunction, on } from "eddy";
export default defineFunction({ name: ${JSON.stringify(name)}, triggers: [${route}] },
  async (request) => request.method === "HEAD"
    ? new Response(null, { status: 200 })
    : new Response("for " + (request.headers.get("authorization") ?? "anyone")));`;
const app = tempApp({
  "functions/page.ts": fn("page", `on.http("GET /page", { public: true, cache: { ttl: "1m" } })`),
  "functions/mine.ts": fn("mine", `on.http("GET /mine", { cache: { ttl: "1m" } })`),
  "functions/shared.ts": fn("shared", `on.http("GET /shared", { cache: { ttl: "1m", shared: true } })`),
});
let eddy: RunningEddy;

const token = (sub: string) =>
  new SignJWT({ scope: "functions:invoke" })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(sub)
    .setExpirationTime("5m")
    .sign(new TextEncoder().encode(SECRET));
async function get(path: string, init: RequestInit = {}) {
  const res = await fetch(`${eddy.url}${path}`, init);
  return { status: res.status, cache: res.headers.get("x-cache"), body: await res.text() };
}

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { jwt: { secret: SECRET } });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

describe("response cache", () => {
  it("does not let a HEAD request blank the GET (HEAD is answered from GET's entry)", async () => {
    expect(await get("/page", { method: "HEAD" })).toMatchObject({ status: 200, cache: "MISS" });
    expect(await get("/page")).toMatchObject({ status: 200, cache: "MISS", body: "for anyone" });
    expect(await get("/page")).toMatchObject({ cache: "HIT", body: "for anyone" });
    const head = await fetch(`${eddy.url}/page`, { method: "HEAD" });
    expect(head.headers.get("x-cache")).toBe("HIT");
    expect(head.headers.get("content-length")).toBe(String("for anyone".length));
  });

  it("keeps a private route's entries per caller", async () => {
    const [alice, bob] = [`Bearer ${await token("alice")}`, `Bearer ${await token("bob")}`];
    expect(await get("/mine", { headers: { authorization: alice } })).toMatchObject({
      cache: "MISS",
      body: `for ${alice}`,
    });
    expect(await get("/mine", { headers: { authorization: alice } })).toMatchObject({ cache: "HIT" });
    expect(await get("/mine", { headers: { authorization: bob } })).toMatchObject({
      cache: "MISS",
      body: `for ${bob}`,
    });
  });

  it("shares one entry across callers only when the route says shared: true", async () => {
    const [alice, bob] = [`Bearer ${await token("alice")}`, `Bearer ${await token("bob")}`];
    expect(await get("/shared", { headers: { authorization: alice } })).toMatchObject({ cache: "MISS" });
    expect(await get("/shared", { headers: { authorization: bob } })).toMatchObject({
      cache: "HIT",
      body: `for ${alice}`,
    });
  });
});
