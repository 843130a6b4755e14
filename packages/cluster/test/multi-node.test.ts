// Several `eddy start --backend cluster` processes on the machine's NATS and PostgreSQL.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import type { ClusterSpec } from "./nodes.js";
import { waitFor } from "../../server/test/helpers.js";
import { publish, query, startNode, succeeded, waitAllSucceeded, workApp, workEvents } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const app = workApp();
const prefixes: string[] = [];
let nodes: EddyProcess[] = [];

function newCluster(): ClusterSpec {
  const prefix = uniquePrefix("multi");
  prefixes.push(prefix);
  return { nats: NATS_URL, postgres: POSTGRES_URL, prefix };
}

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
  app.cleanup();
});

it("shares the work among three nodes, whichever node took the events in", async () => {
  const spec = newCluster();
  nodes = await Promise.all([0, 1, 2].map(() => startNode(spec, app.dir)));
  const ids: string[] = [];
  // All events go in through the first node: the others must be woken by the cluster, not by HTTP.
  for (let b = 0; b < 4; b++) ids.push(...(await publish(nodes[0]!.url, workEvents(`share-${b}`, 50, 30))));
  expect(ids).toHaveLength(200);
  const done = await waitAllSucceeded(spec, ids, 30_000);
  const byNode = new Map<number, number>();
  for (const pids of done.values()) for (const pid of pids) byNode.set(pid, (byNode.get(pid) ?? 0) + 1);
  const pids = nodes.map((n) => n.child.pid!);
  for (const pid of pids)
    expect(byNode.get(pid) ?? 0, `node ${pid} ran nothing: ${[...byNode]}`).toBeGreaterThan(0);
}, 90_000);

it("loses nothing when a node is killed with SIGKILL under load: its leases run elsewhere within the lease time", async () => {
  const spec = newCluster();
  nodes = await Promise.all([0, 1, 2].map(() => startNode(spec, app.dir)));
  const ids: string[] = [];
  for (let b = 0; b < 6; b++)
    ids.push(...(await publish(nodes[b % 3]!.url, workEvents(`kill-${b}`, 50, 50))));
  expect(ids).toHaveLength(300);
  const victim = nodes[1]!;
  const victimPid = victim.child.pid!;
  // The victim is busy: it ran work, and its heartbeat shows leases it holds (running or leased ahead).
  await waitFor(
    async () => {
      const ran = [...(await succeeded(spec)).values()].some((p) => p.includes(victimPid));
      const [held] = await query<{ n: number }>(
        spec,
        `SELECT coalesce(max(jsonb_array_length(leases)), 0)::int AS n FROM nodes WHERE node LIKE '%-${victimPid}'`,
      );
      return ran && held!.n > 0;
    },
    "the victim to run work and hold leases",
    20_000,
  );
  await victim.kill9();
  const killedAt = Date.now();
  // The lease is the function's timeout (2 s) + 10 s; the survivors poll every second.
  const done = await waitAllSucceeded(spec, ids, 25_000);
  const tookMs = Date.now() - killedAt;
  expect(tookMs).toBeLessThan(12_000 + 1_000 + 5_000);
  expect(
    [...done.values()].some((p) => p.includes(victimPid)),
    "the victim ran nothing before it died",
  ).toBe(true);
  // What the victim had leased (running or leased ahead) was handed out again: a second attempt.
  const [again] = await query<{ n: number }>(
    spec,
    "SELECT count(*)::int AS n FROM invocations WHERE fn = 'work' AND status = 'succeeded' AND attempt >= 2",
  );
  expect(again!.n).toBeGreaterThan(0);
}, 90_000);

it("gives work to a node that joins", async () => {
  const spec = newCluster();
  nodes = [await startNode(spec, app.dir)];
  // A backlog the first node needs several seconds for (4 at a time, 100 ms each).
  const ids = await publish(nodes[0]!.url, workEvents("join", 200, 100));
  expect(ids).toHaveLength(200);
  const joiner = await startNode(spec, app.dir);
  nodes.push(joiner);
  const done = await waitAllSucceeded(spec, ids, 40_000);
  const byJoiner = [...done.values()].filter((p) => p.includes(joiner.child.pid!)).length;
  expect(byJoiner, "the node that joined ran nothing").toBeGreaterThan(0);
}, 90_000);

it("fires a schedule exactly once per tick across three nodes", async () => {
  const spec = newCluster();
  writeFileSync(
    join(app.dir, "functions", "tick.ts"),
    `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "tick", triggers: [on.schedule("* * * * * *")] }, async () => {});
`,
  );
  try {
    nodes = await Promise.all([0, 1, 2].map(() => startNode(spec, app.dir)));
    const ticks = () =>
      query<{ event_id: string; n: number }>(
        spec,
        "SELECT event_id, count(*)::int AS n FROM invocations WHERE fn = 'tick' AND status = 'succeeded' GROUP BY event_id",
      );
    await waitFor(async () => (await ticks()).length >= 4, "four ticks of the every-second schedule", 30_000);
    const rows = await ticks();
    expect(
      rows.filter((r) => r.n !== 1),
      "ticks that ran more than once",
    ).toEqual([]);
    // One event per second: no tick fired twice under two ids, none skipped between the first and last.
    const seconds = rows
      .map((r) => Date.parse(r.event_id.slice(r.event_id.indexOf("@") + 1)) / 1000)
      .sort((a, b) => a - b);
    expect(seconds[seconds.length - 1]! - seconds[0]!).toBe(seconds.length - 1);
  } finally {
    rmSync(join(app.dir, "functions", "tick.ts"));
  }
}, 90_000);
