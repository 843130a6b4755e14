// Deploys in cluster mode, on real `eddy start --backend cluster` processes: a version deployed
// over HTTP through one node runs on another node after that node restarts, although it never
// built nor received the bundle (bundles are shared through PostgreSQL); it runs on the other
// nodes live, without a restart; and work is pinned to its version: a delivery that failed on
// version A keeps running A after B is deployed (whichever node retries it, a node started after
// the deploy included) while new events run B.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { runEddy } from "../../cli/test/helpers.js";
import { waitFor } from "../../server/test/helpers.js";
import { publish, query, startNode } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const KEY = "cluster-test-admin-key-7";
const root = mkdtempSync(join(tmpdir(), "eddy-cluster-deploy-"));
const spec = { nats: NATS_URL, postgres: POSTGRES_URL, prefix: uniquePrefix("deploy") };
let nodes: EddyProcess[] = [];

/** An app folder `name` with one function module, `functions/<fn>.ts`. */
function app(name: string, fn: string, source: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "functions"), { recursive: true });
  writeFileSync(join(dir, "functions", `${fn}.ts`), source);
  return dir;
}

const greeter = (name: string, greeting: string) =>
  app(
    name,
    "greeter",
    `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "greeter", triggers: [on.event({ type: ["greet"] })] }, async (event, ctx) => {
  ctx.log.info(${JSON.stringify(greeting)});
});
`,
  );

async function version(url: string, fn = "greeter"): Promise<string> {
  const res = await fetch(`${url}/v1/functions/${fn}`);
  return ((await res.json()) as { version: string }).version;
}

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  await dropPrefix(spec.prefix);
  rmSync(root, { recursive: true, force: true });
});

it("runs a version deployed through another node after a restart", async () => {
  const folder = greeter("folder", "v1");
  nodes = await Promise.all([0, 1].map(() => startNode(spec, folder, { EDDY_ADMIN_KEY: KEY })));
  const v1 = await version(nodes[1]!.url);
  const deployed = await runEddy([
    "deploy",
    greeter("next", "v2"),
    "--url",
    nodes[0]!.url,
    "--admin-key",
    KEY,
  ]);
  expect(deployed.code, deployed.out).toBe(0);
  const v2 = await version(nodes[0]!.url);
  expect(v2).not.toBe(v1);
  // The second node restarts on a fresh data folder (another machine, a new container).
  await nodes[1]!.stop(5_000);
  nodes[1] = await startNode(spec, folder, { EDDY_ADMIN_KEY: KEY });
  expect(await version(nodes[1].url)).toBe(v2);
}, 90_000);

/**
 * Version A holds "hold" events until `release` is set in its ctx.kv, which only version B does (on
 * a "free" event): the held delivery can only finish after the deploy, with no timing involved.
 */
const pinned = (name: string, body: string) =>
  app(
    name,
    "pinned",
    `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "pinned", triggers: [on.event({ type: ["hold", "free"] })],
    retries: { maxAttempts: 1000, backoff: { initial: "50ms", max: "300ms" } } },
  async (event, ctx) => { ${body} },
);
`,
  );
const versionA = pinned(
  "a",
  `if (event.type === "hold" && !(await ctx.kv.get("release"))) throw new Error("held on A");
   ctx.log.info("A");`,
);
const versionB = pinned(
  "b",
  `if (event.type === "free") await ctx.kv.set("release", true);
   ctx.log.info("B");`,
);

interface Row {
  version: string;
  status: string;
  logs: string;
}

const records = (eventId: string) =>
  query<Row>(spec, `SELECT version, status, logs FROM invocations WHERE event_id = '${eventId}'`);

const succeeded = (eventId: string) =>
  waitFor(
    async () => (await records(eventId)).find((r) => r.status === "succeeded"),
    `${eventId} to succeed`,
    60_000,
  );

const event = (id: string, type: string) => ({ specversion: "1.0", id, source: "/live", type });

it("deploys to every node live, finishes pinned work on its version, and runs new work on the new one", async () => {
  nodes = await Promise.all([0, 1].map(() => startNode(spec, versionA, { EDDY_ADMIN_KEY: KEY })));
  const a = await version(nodes[1]!.url, "pinned");

  expect(await publish(nodes[0]!.url, [event("hold-1", "hold")])).toEqual(["hold-1"]);
  await waitFor(
    async () => (await records("hold-1")).find((r) => r.status === "failed"),
    "hold-1 to fail on A",
    30_000,
  );

  const deployed = await runEddy(["deploy", versionB, "--url", nodes[0]!.url, "--admin-key", KEY]);
  expect(deployed.code, deployed.out).toBe(0);
  const b = await version(nodes[0]!.url, "pinned");
  expect(b).not.toBe(a);
  // The other node runs B without a restart: its API says so once it applied the deploy.
  await waitFor(async () => (await version(nodes[1]!.url, "pinned")) === b, "node 1 to run B", 30_000);

  // A node started after the deploy runs B, though its folder holds A.
  nodes.push(await startNode(spec, versionA, { EDDY_ADMIN_KEY: KEY }));
  expect(await version(nodes[2]!.url, "pinned")).toBe(b);

  // New events run B; "free" releases hold-1, whose retries still run A.
  expect(await publish(nodes[1]!.url, [event("free-1", "free")])).toEqual(["free-1"]);
  expect((await succeeded("free-1")).version).toBe(b);
  const done = await succeeded("hold-1");
  expect(done.version).toBe(a);
  expect((JSON.parse(done.logs) as { msg: string }[]).map((l) => l.msg)).toEqual(["A"]);
  expect(new Set((await records("hold-1")).map((r) => r.version))).toEqual(new Set([a]));

  expect(await publish(nodes[2]!.url, [event("hold-2", "hold")])).toEqual(["hold-2"]);
  expect((await succeeded("hold-2")).version).toBe(b);

  // A rollback through one node reaches the others live too.
  const back = await fetch(`${nodes[2]!.url}/v1/functions/pinned/rollback`, {
    method: "POST",
    headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
    body: "{}",
  });
  expect(back.status, await back.text()).toBe(200);
  for (const n of nodes)
    await waitFor(async () => (await version(n.url, "pinned")) === a, `${n.url} to roll back to A`, 30_000);
}, 180_000);
