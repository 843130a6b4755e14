// A node killed with SIGKILL while it runs an attempt: its lease is shown in the admin view of the
// other nodes, and a node that sees it stop beating takes its lease over in seconds, long before
// the lease ends (the function's timeout of 60 s + 10 s). Real `eddy start` processes on the
// machine's NATS and PostgreSQL; short heartbeats through the environment.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { waitFor } from "../../server/test/helpers.js";
import type { ClusterSpec } from "./nodes.js";
import { publish, query, startNode } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-death-app-"));
mkdirSync(join(dir, "functions"));
// The first attempt never ends (its node is killed during it); a later one succeeds at once.
writeFileSync(
  join(dir, "functions", "hold.ts"),
  `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "hold", triggers: [on.event({ type: ["death.hold"] })], timeout: "60s" },
  async (event, ctx) => {
    ctx.log.info("ran", { pid: process.pid });
    if (ctx.invocation.attempt === 1) await new Promise(() => undefined);
  },
);
`,
);
const prefix = uniquePrefix("death");
const spec: ClusterSpec = { nats: NATS_URL, postgres: POSTGRES_URL, prefix };
const nodes: EddyProcess[] = [];
const FAST = { EDDY_HEARTBEAT_MS: "200", EDDY_DEAD_AFTER_MS: "1500" };
// Beats, but takes nobody for dead while the test looks at the admin view.
const PATIENT = { EDDY_HEARTBEAT_MS: "200", EDDY_DEAD_AFTER_MS: "600000" };

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  await dropPrefix(prefix);
  rmSync(dir, { recursive: true, force: true });
});

const holdEvent = (id: string) => ({ specversion: "1.0", id, source: "/death", type: "death.hold" });

interface Listed {
  id: string;
  attempt: number;
  node?: string;
  nodeLost?: boolean;
}

async function leased(url: string): Promise<Listed[]> {
  const res = await fetch(`${url}/v1/deliveries?state=leased&function=hold`);
  return ((await res.json()) as { deliveries: Listed[] }).deliveries;
}

it("shows a killed node's lease, and another node takes it over in seconds, not when it ends", async () => {
  const victim = await startNode(spec, dir, PATIENT);
  nodes.push(victim);
  const victimId = `${hostname()}-${victim.child.pid}`;
  expect(await publish(victim.url, [holdEvent("held-1")])).toHaveLength(1);
  // The victim runs the first attempt, and its heartbeat says it holds the lease.
  await waitFor(
    async () =>
      (
        await query<{ n: number }>(
          spec,
          `SELECT count(*)::int AS n FROM nodes WHERE node = '${victimId}' AND leases @> '[{"eventId":"held-1"}]'`,
        )
      )[0]!.n === 1,
    "the victim's heartbeat to list its lease",
    20_000,
  );
  const watcher = await startNode(spec, dir, PATIENT);
  nodes.push(watcher);
  await victim.kill9();

  // Another node shows the dead node's lease (from its last heartbeat), with the node's name.
  const [shown] = await leased(watcher.url);
  expect(shown).toMatchObject({ id: expect.any(String), attempt: 1, node: victimId });

  // A node that takes nodes for dead after 1.5 s without a beat takes the lease over: the explicit
  // signal is its log line; then the delivery runs again and succeeds on a live node.
  const rescuer = await startNode(spec, dir, FAST);
  nodes.push(rescuer);
  await waitFor(
    () => /node \S+ stopped \(no heartbeat for 1500 ms\): took over 1 of its leases/.test(rescuer.output()),
    "the rescuer to take over the dead node's lease",
    20_000,
  );
  // The lease would end 70 s after it began: a success well before that is the takeover's.
  const [done] = await waitFor(
    async () => {
      const rows = await query<{ attempt: number; logs: string }>(
        spec,
        "SELECT attempt, logs FROM invocations WHERE fn = 'hold' AND event_id = 'held-1' AND status = 'succeeded'",
      );
      return rows.length > 0 && rows;
    },
    "the taken-over delivery to succeed",
    20_000,
  );
  expect(done!.attempt).toBe(2);
  const pid = (JSON.parse(done!.logs) as { fields?: { pid?: number } }[])[0]?.fields?.pid;
  expect(pid).not.toBe(victim.child.pid);
  expect(await leased(watcher.url)).toEqual([]);
}, 120_000);

it("does not take the leases of a live node, however short the dead-node time", async () => {
  const a = await startNode(spec, dir, FAST);
  nodes.push(a);
  const b = await startNode(spec, dir, FAST);
  nodes.push(b);
  expect(await publish(a.url, [holdEvent("live-1")])).toHaveLength(1);
  const [first] = await waitFor(
    async () => {
      const l = await leased(a.url);
      return l.length === 1 && l;
    },
    "the first attempt to run",
    20_000,
  );
  // Both nodes beat every 200 ms; wait for 4 of the other node's dead-node times (observed through
  // its own heartbeat rows, not a clock): the attempt is still the first, on the same node.
  const beats = async () => (await query<{ n: number }>(spec, "SELECT count(*)::int AS n FROM nodes"))[0]!.n;
  for (let i = 0; i < 4; i++) {
    const before = await query<{ seen_at: string }>(spec, "SELECT max(seen_at)::text AS seen_at FROM nodes");
    await waitFor(
      async () =>
        (
          await query<{ later: boolean }>(
            spec,
            `SELECT min(seen_at) > ${Number(before[0]!.seen_at) + 1500} AS later FROM nodes`,
          )
        )[0]!.later,
      "both nodes to beat past another dead-node time",
      20_000,
    );
  }
  expect(await beats()).toBe(2);
  expect(await leased(b.url)).toEqual([first]);
  expect(a.output() + b.output()).not.toMatch(/took over/);
}, 120_000);
