// NATS or PostgreSQL goes away mid-run (SIGKILL, or a crash-like stop) and comes back: the nodes
// recover by themselves, and every event acknowledged to a producer still runs. Runs on private
// servers (see private-servers.ts) so that killing them disturbs nobody else.
import { afterAll, afterEach, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { waitFor } from "../../server/test/helpers.js";
import type { ClusterSpec } from "./nodes.js";
import { publish, startNode, waitAllSucceeded, workApp, workEvents } from "./nodes.js";
import { PrivateNats, PrivatePostgres } from "./private-servers.js";

const app = workApp();
const nats = new PrivateNats();
const postgres = new PrivatePostgres();
let nodes: EddyProcess[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
// Whatever happened, the private servers go away with the test file.
afterAll(async () => {
  await Promise.allSettled([nats.dispose(), postgres.dispose()]);
  app.cleanup();
});

/**
 * Starts two nodes and a producer that sends a batch every 50 ms, round-robin, for `ms`; runs
 * `outage` meanwhile. Resolves the ids acknowledged with 202. A batch sent while a server is down
 * fails when its request times out (5 s), so `ms` leaves time for batches after the recovery.
 */
async function produceThrough(spec: ClusterSpec, ms: number, outage: () => Promise<void>): Promise<string[]> {
  nodes = await Promise.all([0, 1].map(() => startNode(spec, app.dir)));
  const acked: string[] = [];
  let stop = false;
  const producer = (async () => {
    for (let b = 0; !stop; b++) {
      acked.push(...(await publish(nodes[b % 2]!.url, workEvents(`${spec.prefix}-${b}`, 10, 10))));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  // Traffic flows end to end before the outage: the first acknowledged events ran.
  await waitFor(() => acked.length >= 20, "the first batches to be acknowledged");
  await waitAllSucceeded(spec, acked.slice(0, 20), 20_000);
  const ended = new Promise((r) => setTimeout(r, ms));
  await outage();
  await ended;
  stop = true;
  await producer;
  return acked;
}

it("recovers from NATS killed with SIGKILL and restarted: every acknowledged event runs", async () => {
  await Promise.all([nats.start(), postgres.start()]);
  const spec = { nats: nats.url, postgres: postgres.url, prefix: "restart_nats" };
  const acked = await produceThrough(spec, 8_000, async () => {
    await nats.kill9();
    await new Promise((r) => setTimeout(r, 1_000));
    await nats.start();
  });
  expect(acked.length).toBeGreaterThan(100);
  await waitAllSucceeded(spec, acked, 40_000);
}, 90_000);

it("recovers from PostgreSQL crashed and restarted: every acknowledged event runs", async () => {
  await Promise.all([nats.start(), postgres.start()]);
  const spec = { nats: nats.url, postgres: postgres.url, prefix: "restart_pg" };
  const acked = await produceThrough(spec, 8_000, async () => {
    await postgres.crash();
    await new Promise((r) => setTimeout(r, 1_000));
    await postgres.start();
  });
  expect(acked.length).toBeGreaterThan(100);
  await waitAllSucceeded(spec, acked, 40_000);
}, 90_000);
