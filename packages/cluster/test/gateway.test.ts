// The gateway on the cluster backend: a sync route, an async request whose status resolves at
// once and ends with the result, and API keys kept in PostgreSQL.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { createLogger, startEddy } from "@eddy/server";
import { openClusterBackend } from "@eddy/cluster";
import { waitFor } from "../../server/test/helpers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const ADMIN = "cluster-admin-key-0123456789";
const prefix = uniquePrefix("gateway");
const dir = mkdtempSync(join(tmpdir(), "eddy-cluster-gw-"));
mkdirSync(join(dir, "functions"));
writeFileSync(
  join(dir, "functions", "api.ts"),
  `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "api", triggers: [on.http("GET /hi/:name"), on.http("POST /jobs", { mode: "async" })] },
  async (request, ctx) => ctx.route === "POST /jobs" ? { job: (await request.json()).n * 2 } : { hi: ctx.params.name },
);`,
);
writeFileSync(
  join(dir, "functions", "cached.ts"),
  `import { defineFunction, on } from "eddy";
let n = 0;
export default defineFunction(
  { name: "cached", triggers: [on.http("GET /cached", { public: true, cache: { ttl: "10m" } })] },
  async () => ({ n: ++n }),
);`,
);
let eddy: RunningEddy;
let other: RunningEddy;

/** A node of the cluster, in this process (its own node id, data folder and port). */
async function node(nodeId: string): Promise<RunningEddy> {
  const backend = await openClusterBackend({
    nats: NATS_URL,
    postgres: POSTGRES_URL,
    prefix,
    poolSize: 4,
    nodeId,
  });
  return startEddy({
    dir,
    port: 0,
    backend,
    dataDir: join(dir, `.eddy-${nodeId}`),
    adminKey: ADMIN,
    auth: "all",
    log: createLogger({ level: process.env.EDDY_TEST_LOG ?? "silent" }),
  });
}

beforeAll(async () => {
  await requireServices();
  eddy = await node("a");
  other = await node("b");
});
afterAll(async () => {
  await other?.close();
  await eddy?.close();
  await dropPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

it("serves sync and async routes with keys stored in the cluster", async () => {
  const made = await fetch(`${eddy.url}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "app", scopes: ["functions:invoke"] }),
  });
  const { token } = (await made.json()) as { token: string };
  const auth = { authorization: `Bearer ${token}` };
  expect((await fetch(`${eddy.url}/hi/ada`)).status).toBe(401);
  expect(await (await fetch(`${eddy.url}/hi/ada`, { headers: auth })).json()).toEqual({ hi: "ada" });

  const res = await fetch(`${eddy.url}/jobs`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ n: 21 }),
  });
  expect(res.status).toBe(202);
  const location = res.headers.get("location")!;
  const first = await fetch(`${eddy.url}${location}`, { headers: auth });
  expect(first.status).toBe(200);
  const body = await waitFor(
    async () => {
      const b = (await (await fetch(`${eddy.url}${location}`, { headers: auth })).json()) as Record<
        string,
        unknown
      >;
      return b.status === "succeeded" && b;
    },
    "the async request to succeed",
    20_000,
  );
  expect(body).toMatchObject({ status: "succeeded", result: { status: 200, body: { job: 42 } } });
});

it("invalidates cached responses and revokes keys on every node", async () => {
  const get = async (url: string) => {
    const res = await fetch(`${url}/cached`);
    return [res.headers.get("x-cache"), await res.json()];
  };
  expect((await get(eddy.url))[0]).toBe("MISS");
  expect((await get(eddy.url))[0]).toBe("HIT");
  const dropped = await fetch(`${other.url}/v1/cache?function=cached`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  expect(dropped.status).toBe(200);
  await waitFor(async () => (await get(eddy.url))[0] === "MISS", "node a to drop its entry");

  const made = await fetch(`${eddy.url}/v1/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "short-lived", scopes: ["functions:invoke"] }),
  });
  const { token, key } = (await made.json()) as { token: string; key: { id: string } };
  const hi = (url: string) => fetch(`${url}/hi/x`, { headers: { authorization: `Bearer ${token}` } });
  expect((await hi(eddy.url)).status).toBe(200);
  expect((await hi(other.url)).status).toBe(200);
  await fetch(`${other.url}/v1/keys/${key.id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  expect((await hi(other.url)).status).toBe(401);
  // Node a was told; it does not wait for its 5 s copy to age.
  await waitFor(async () => (await hi(eddy.url)).status === 401, "node a to refuse the revoked key", 2_000);
});
