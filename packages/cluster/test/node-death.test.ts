// A node killed with SIGKILL while it runs an attempt: its lease is shown in the admin view of the
// other nodes, and a node that sees it stop beating takes its lease over in seconds, long before
// the lease ends (the function's timeout of 60 s + 10 s). Real `eddy start` processes on the
// machine's NATS and PostgreSQL; short heartbeats through the environment.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { runEddy } from "../../cli/test/helpers.js";
import { waitFor } from "../../server/test/helpers.js";
import type { ClusterSpec } from "./nodes.js";
import { publish, query, startNode } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-death-app-"));
mkdirSync(join(dir, "functions"));
// The first attempt never ends (its node is killed during it); a later one succeeds at once.
// `hold` takes the stream lane (JetStream), `keyed` the table lane (a concurrency key).
const holding = (name: string, type: string, options = "") =>
  writeFileSync(
    join(dir, "functions", `${name}.ts`),
    `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "${name}", triggers: [on.event({ type: ["${type}"] })], timeout: "60s" ${options} },
  async (event, ctx) => {
    ctx.log.info("ran", { pid: process.pid });
    if (ctx.invocation.attempt === 1) await new Promise(() => undefined);
  },
);
`,
  );
holding("hold", "death.hold");
holding("keyed", "death.keyed", `, concurrency: { max: 2, key: "event.data.k", perKey: 1 }`);
const prefixes: string[] = [];
let spec: ClusterSpec;
const nodes: EddyProcess[] = [];
const FAST = { EDDY_HEARTBEAT_MS: "200", EDDY_DEAD_AFTER_MS: "1500" };
// Beats, but takes nobody for dead while the test looks at the admin view.
const PATIENT = { EDDY_HEARTBEAT_MS: "200", EDDY_DEAD_AFTER_MS: "600000" };

beforeAll(requireServices);
// Each test on a cluster of its own: a node left dead by one test is not the next one's business.
beforeEach(() => {
  prefixes.push(uniquePrefix("death"));
  spec = { nats: NATS_URL, postgres: POSTGRES_URL, prefix: prefixes.at(-1)! };
});
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
  rmSync(dir, { recursive: true, force: true });
});

const holdEvent = (id: string, type = "death.hold") => ({
  specversion: "1.0",
  id,
  source: "/death",
  type,
  data: { k: "a" },
});

interface Listed {
  id: string;
  fn: string;
  attempt: number;
  node?: string;
  nodeLost?: boolean;
}

async function leased(url: string): Promise<Listed[]> {
  const res = await fetch(`${url}/v1/deliveries?state=leased`);
  return ((await res.json()) as { deliveries: Listed[] }).deliveries;
}

it("shows a killed node's lease, and another node takes it over in seconds, not when it ends", async () => {
  const victim = await startNode(spec, dir, PATIENT);
  nodes.push(victim);
  const victimId = `${hostname()}-${victim.child.pid}`;
  const sent = [holdEvent("held-1"), holdEvent("keyed-1", "death.keyed")];
  expect(await publish(victim.url, sent)).toHaveLength(2);
  // The victim runs both first attempts: its heartbeat lists the stream-lane lease, and the
  // table-lane row is leased with a token of the victim's instance.
  await waitFor(
    async () =>
      (
        await query<{ n: number }>(
          spec,
          `SELECT ((SELECT count(*) FROM nodes WHERE node = '${victimId}' AND leases @> '[{"eventId":"held-1"}]')
             + (SELECT count(*) FROM deliveries d JOIN nodes n ON d.lease_token LIKE 'T.' || n.instance || '.%'
                WHERE n.node = '${victimId}' AND d.event_id = 'keyed-1' AND d.state = 1))::int AS n`,
        )
      )[0]!.n === 2,
    "the victim to hold both leases, in its heartbeat and in the table",
    20_000,
  );
  const watcher = await startNode(spec, dir, PATIENT);
  nodes.push(watcher);
  await victim.kill9();

  // Another node shows the dead node's lease (from its last heartbeat), with the node's name,
  // over HTTP and in `eddy deliveries`.
  const shown = (await leased(watcher.url)).find((d) => d.fn === "hold");
  expect(shown).toMatchObject({ id: expect.any(String), attempt: 1, node: victimId });
  const cli = await runEddy(["deliveries", "--url", watcher.url]);
  expect(cli.code).toBe(0);
  expect(cli.out).toMatch(
    new RegExp(`\\thold\\tleased\\tattempt 1\\tdeath\\.hold\\theld-1\\t\\S+\\t${victimId}\\n`),
  );
  expect(cli.out).toMatch(/\tkeyed\tleased\tattempt 1\tdeath\.keyed\tkeyed-1\t/);

  // A node that takes nodes for dead after 1.5 s without a beat takes the lease over: the explicit
  // signal is its log line; then the delivery runs again and succeeds on a live node.
  const rescuer = await startNode(spec, dir, FAST);
  nodes.push(rescuer);
  await waitFor(
    () => /node \S+ stopped \(no heartbeat for 1500 ms\): took over 2 of its leases/.test(rescuer.output()),
    "the rescuer to take over the dead node's leases",
    20_000,
  );
  // The lease would end 70 s after it began: a success well before that is the takeover's.
  const done = await waitFor(
    async () => {
      const rows = await query<{ event_id: string; attempt: number; logs: string }>(
        spec,
        "SELECT event_id, attempt, logs FROM invocations WHERE status = 'succeeded' ORDER BY event_id",
      );
      return rows.length === 2 && rows;
    },
    "the taken-over deliveries to succeed",
    20_000,
  );
  expect(done.map((r) => [r.event_id, r.attempt])).toEqual([
    ["held-1", 2],
    ["keyed-1", 2],
  ]);
  for (const r of done) {
    const pid = (JSON.parse(r.logs) as { fields?: { pid?: number } }[])[0]?.fields?.pid;
    expect(pid).not.toBe(victim.child.pid);
  }
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
