// Flow control across real `eddy start --backend cluster` processes: per-key concurrency and FIFO
// groups hold cluster-wide (also when a node is killed), queue receipts and visibility work through
// any node, and the admin view shows every node's leases.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import type { ClusterSpec } from "./nodes.js";
import { waitFor } from "../../server/test/helpers.js";
import { publish, query, startNode } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

// Each function logs when it ran, on which node, and what it got.
const RAN = `ctx.log.info("ran", { pid: process.pid, data: event.data, t0, t1: Date.now() });`;
const FUNCTIONS: Record<string, string> = {
  "per-key.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "per-key", triggers: [on.event({ type: ["flow.perkey"] })], timeout: "2s",
    concurrency: { max: 4, key: "event.data.k", perKey: 1 } },
  async (event, ctx) => { const t0 = Date.now(); await new Promise((r) => setTimeout(r, 40)); ${RAN} },
);`,
  "fifo.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "fifo", triggers: [on.queue("orders.fifo")], timeout: "2s", concurrency: { max: 4 } },
  async (event, ctx) => { const t0 = Date.now(); await new Promise((r) => setTimeout(r, 60)); ${RAN} },
);`,
  "slow.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "slow", triggers: [on.event({ type: ["flow.slow"] })], timeout: "5s", concurrency: { max: 2 } },
  async (event, ctx) => { const t0 = Date.now(); await new Promise((r) => setTimeout(r, 1500)); ${RAN} },
);`,
};

const app = mkdtempSync(join(tmpdir(), "eddy-cluster-flow-"));
mkdirSync(join(app, "functions"));
for (const [file, code] of Object.entries(FUNCTIONS)) writeFileSync(join(app, "functions", file), code);
const prefixes: string[] = [];
let nodes: EddyProcess[] = [];

async function cluster(n: number): Promise<ClusterSpec> {
  const spec = { nats: NATS_URL, postgres: POSTGRES_URL, prefix: uniquePrefix("flow") };
  prefixes.push(spec.prefix);
  nodes = await Promise.all(Array.from({ length: n }, () => startNode(spec, app)));
  return spec;
}

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
  rmSync(app, { recursive: true, force: true });
});

interface Ran {
  pid: number;
  data: { k?: string; g?: string; n?: number };
  t0: number;
  t1: number;
}

/** The successful runs of `fn`, by start time. */
async function runs(spec: ClusterSpec, fn: string): Promise<Ran[]> {
  const rows = await query<{ logs: string }>(
    spec,
    `SELECT logs FROM invocations WHERE fn = '${fn}' AND status = 'succeeded'`,
  );
  return rows.map((r) => (JSON.parse(r.logs) as { fields: Ran }[])[0]!.fields).sort((a, b) => a.t0 - b.t0);
}

async function waitRuns(spec: ClusterSpec, fn: string, n: number, timeoutMs: number): Promise<Ran[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await runs(spec, fn);
    if (r.length >= n) return r;
    if (Date.now() > deadline) throw new Error(`${fn}: ${r.length} of ${n} runs after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs of one key or group never overlap in time, on any node. */
function expectOneAtATime(list: Ran[]) {
  for (let i = 1; i < list.length; i++) expect(list[i]!.t0).toBeGreaterThanOrEqual(list[i - 1]!.t1);
}

async function call(url: string, method: string, body?: unknown) {
  const res = await fetch(
    url,
    body === undefined
      ? { method }
      : { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) },
  );
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

it("holds per-key concurrency across three nodes", async () => {
  const spec = await cluster(3);
  const events = Array.from({ length: 48 }, (_, i) => ({
    specversion: "1.0",
    id: `pk-${i}`,
    source: "/flow",
    type: "flow.perkey",
    data: { k: `k${i % 6}` },
  }));
  for (let b = 0; b < 6; b++)
    expect(await publish(nodes[b % 3]!.url, events.slice(b * 8, b * 8 + 8))).toHaveLength(8);
  const all = await waitRuns(spec, "per-key", 48, 30_000);
  for (let k = 0; k < 6; k++) expectOneAtATime(all.filter((r) => r.data.k === `k${k}`));
  expect(new Set(all.map((r) => r.pid)).size, "nodes that ran something").toBeGreaterThan(1);
}, 90_000);

it("keeps FIFO groups in order across three nodes, also when one is killed", async () => {
  const spec = await cluster(3);
  const groups = ["a", "b", "c", "d"];
  const messages = Array.from({ length: 15 }, (_, n) =>
    groups.map((g) => ({ body: { g, n }, groupId: g })),
  ).flat();
  const sent = await call(`${nodes[0]!.url}/v1/queues/orders.fifo/messages`, "POST", { messages });
  expect(sent.status).toBe(202);
  // The nodes are under way (some heads ran, the next ones are leased) when one is killed.
  await waitRuns(spec, "fifo", 4, 20_000);
  await nodes[1]!.kill9();
  // The victim's heads come back when their lease (timeout 2 s + 10 s) ends.
  const all = await waitRuns(spec, "fifo", 60, 45_000);
  for (const g of groups) {
    const mine = all.filter((r) => r.data.g === g);
    expect(mine.map((r) => r.data.n)).toEqual(Array.from({ length: 15 }, (_, n) => n));
    expectOneAtATime(mine);
  }
}, 90_000);

it("settles receipts and moves visibility through any node", async () => {
  await cluster(3);
  const [a, b, c] = nodes.map((n) => `${n.url}/v1/queues/jobs`);
  expect((await call(a!, "PUT", { visibilityTimeout: "1m" })).status).toBe(200);
  expect((await call(`${a}/messages`, "POST", { body: { n: 1 } })).status).toBe(202);
  const receive = async (url: string, body: unknown = {}) =>
    (await call(`${url}/receive`, "POST", body)).body.messages as {
      receiptHandle: string;
      receiveCount: number;
    }[];
  const [first] = await receive(b!);
  expect(first).toMatchObject({ receiveCount: 1 });
  expect(await receive(c!)).toEqual([]);
  // Visible again at once, through a node that did not receive it.
  const receipt = (r: { receiptHandle: string }) => encodeURIComponent(r.receiptHandle);
  expect((await call(`${c}/messages/${receipt(first!)}/visibility`, "POST", { timeout: 0 })).status).toBe(
    204,
  );
  const [second] = await receive(a!);
  expect(second).toMatchObject({ receiveCount: 2 });
  expect((await call(`${b}/messages/${receipt(first!)}`, "DELETE")).status).toBe(409);
  // A longer visibility set through one node holds on the others.
  expect(
    (await call(`${b}/messages/${receipt(second!)}/visibility`, "POST", { timeout: "30s" })).status,
  ).toBe(204);
  expect((await call(`${a}/messages`, "POST", { body: { n: 2 } })).status).toBe(202);
  const [third] = await receive(c!, { visibilityTimeout: "1s" });
  expect((await call(`${a}/messages/${receipt(third!)}/visibility`, "POST", { timeout: "30s" })).status).toBe(
    204,
  );
  await new Promise((r) => setTimeout(r, 1_500));
  expect(await receive(b!)).toEqual([]);
  expect((await call(`${c}/messages/${receipt(second!)}`, "DELETE")).status).toBe(204);
  expect((await call(`${b}/messages/${receipt(third!)}`, "DELETE")).status).toBe(204);
}, 60_000);

it("shows the leases of every node in the admin view", async () => {
  await cluster(3);
  const events = Array.from({ length: 4 }, (_, i) => ({
    specversion: "1.0",
    id: `slow-${i}`,
    source: "/flow",
    type: "flow.slow",
    data: {},
  }));
  expect(await publish(nodes[0]!.url, events)).toHaveLength(4);
  const leased = () =>
    Promise.all(
      nodes.map(async (n) => {
        const res = await call(`${n.url}/v1/deliveries?state=leased&function=slow`, "GET");
        return (res.body.deliveries as { id: string; dueAt: number }[]).map((d) => d.id).sort();
      }),
    );
  // Every node comes to see the same four leases, wherever they are held (the slow runs take 1.5 s).
  const seen = await waitFor(async () => {
    const s = await leased();
    return s.every((ids) => ids.length === 4) && s;
  }, "every node to show the four leases");
  expect(seen[1]).toEqual(seen[0]);
  expect(seen[2]).toEqual(seen[0]);
}, 60_000);
