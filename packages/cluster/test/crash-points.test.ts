// The crash-injection contract of the cluster's cross-store writes (outbox.ts, docs/cluster.md):
// a real node process (crash-child.js) is killed with SIGKILL at each named crash point, between
// two steps of an append, a settle of either lane, a promotion of scheduled deliveries or a
// redrive; then another node opens the same cluster and checks that nothing acknowledged is lost,
// nothing that must happen once happens twice (a delivery, an emitted event), and no delivery is
// stuck (each one reaches its consumer, the outbox and `scheduled` end empty).
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AppendEntry, Backend, LeasedDelivery } from "@eddy/server";
import type { CrashPoint } from "@eddy/cluster";
import { CRASH_POINTS, openClusterBackend } from "@eddy/cluster";
import { waitFor } from "../../server/test/helpers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const CHILD = fileURLToPath(new URL("./crash-child.js", import.meta.url));
const LEASE_MS = 30_000;
// The crashed node's lease length (crash-child.js): a longer lease of the same function would grow
// its consumer's ack wait, and with it the wait for the crashed node's lease to end.
const CHILD_LEASE_MS = 1_500;
// What crash-child.js appends and emits.
const event = (id: string, type = "crash.test") => ({
  specversion: "1.0" as const,
  id,
  source: "/crash",
  type,
});
const EMIT: AppendEntry = {
  event: event("emitted", "crash.emitted"),
  dedupKey: "/crash\0emitted",
  deliveries: [{ fn: "e" }],
};
const prefixes: string[] = [];
const open: Backend[] = [];
const tested = new Set<CrashPoint>();

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
});

/** Runs `scenario` in a node process that is killed at `point`; resolves once it died there. */
function crashAt(prefix: string, scenario: string, point: CrashPoint): Promise<void> {
  tested.add(point);
  const args = JSON.stringify({ nats: NATS_URL, postgres: POSTGRES_URL, prefix, scenario, point });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, args], { stdio: ["ignore", "inherit", "inherit"] });
    child.once("error", reject);
    child.once("exit", (code, signal) =>
      signal === "SIGKILL"
        ? resolve()
        : reject(
            new Error(`the node was to die at ${point} (${scenario}) but exited with ${code ?? signal}`),
          ),
    );
  });
}

/** A node of the cluster `prefix`, after the crash. */
async function survivor(prefix: string): Promise<Backend> {
  const b = await openClusterBackend({
    nats: NATS_URL,
    postgres: POSTGRES_URL,
    prefix,
    poolSize: 4,
    pollMs: 200,
    nodeId: "survivor",
  });
  open.push(b);
  return b;
}

async function rows(prefix: string, sql: string): Promise<number> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${prefix}.${sql}`);
    return rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** Waits for `fn`'s deliveries (one is expected), leases them and acks them; resolves them. */
async function runOnce(b: Backend, fn: string): Promise<LeasedDelivery[]> {
  const leased = await waitFor(async () => {
    const l = await b.queue.lease(fn, 10, LEASE_MS);
    return l.length > 0 ? l : undefined;
  }, `a delivery of ${fn}`);
  for (const l of leased) await b.queue.settle(l, { kind: "ack" }, { dedupWindowMs: 600_000 });
  return leased;
}

/** Nothing of `fns` is left anywhere: no second copy waits, none is leased, nothing to relay. */
async function nothingLeft(b: Backend, prefix: string, fns: string[]): Promise<void> {
  // A row relayed but not deleted (crash point relay.published) is published again, deduplicated.
  await waitFor(async () => (await rows(prefix, "outbox")) === 0, "the outbox to be relayed");
  for (const fn of fns) expect(await b.queue.counts(fn), fn).toEqual({ ready: 0, leased: 0, dead: 0 });
  expect(await rows(prefix, "scheduled"), "scheduled rows").toBe(0);
}

function cluster(): string {
  const prefix = uniquePrefix("crash");
  prefixes.push(prefix);
  return prefix;
}

describe("append: an event to the stream lane (s) and the table lane (t)", () => {
  const retry = (b: Backend) =>
    b.log.append(
      [{ event: event("a1"), dedupKey: "/crash\0a1", deliveries: [{ fn: "s" }, { fn: "t", groupKey: "g" }] }],
      {
        dedupWindowMs: 600_000,
      },
    );

  it("append.logged: nothing is stored but the log message; the producer's retry delivers once", async () => {
    const prefix = cluster();
    await crashAt(prefix, "append", "append.logged");
    const b = await survivor(prefix);
    expect(await rows(prefix, "dedup")).toBe(0);
    expect(await rows(prefix, "deliveries")).toBe(0);
    const [result] = await retry(b); // the producer got no answer: it sends again
    expect((await runOnce(b, "s")).map((d) => d.id)).toEqual([`${result!.seq}.s`]);
    expect((await runOnce(b, "t")).map((d) => d.id)).toEqual([`${result!.seq}.t`]);
    expect((await retry(b))[0]).toEqual({ status: "duplicate", seq: result!.seq });
    await nothingLeft(b, prefix, ["s", "t"]);
  });

  for (const point of ["append.committed", "relay.published"] as const) {
    it(`${point}: the committed deliveries arrive without a retry, once; a retry is a duplicate`, async () => {
      const prefix = cluster();
      await crashAt(prefix, "append", point);
      const b = await survivor(prefix);
      const [s] = await runOnce(b, "s"); // relayed by the survivor's outbox recovery
      const [t] = await runOnce(b, "t");
      const seq = s!.eventSeq;
      expect([s!.id, t!.id]).toEqual([`${seq}.s`, `${seq}.t`]);
      expect((await retry(b))[0]).toEqual({ status: "duplicate", seq });
      await nothingLeft(b, prefix, ["s", "t"]);
    });
  }
});

for (const lane of ["stream", "table"] as const) {
  const fn = lane === "stream" ? "s" : "t";
  describe(`settle (${lane} lane): an ack with an emitted event (to e) and a key-value write`, () => {
    /** The rerun of the attempt, as the engine makes it: the same emit and key-value write. */
    const rerun = (b: Backend, lease: LeasedDelivery) =>
      b.queue.settle(
        lease,
        { kind: "ack" },
        { emit: [EMIT], dedupWindowMs: 600_000, kv: [{ ns: "crash", key: "k", value: 1 }] },
      );

    it("settle.logged: nothing is committed; the delivery runs again and its emit arrives once", async () => {
      const prefix = cluster();
      await crashAt(prefix, `settle-${lane}`, "settle.logged");
      const b = await survivor(prefix);
      expect(await b.kv.get("crash", "k")).toBeUndefined();
      const lease = await waitFor(
        async () => (await b.queue.lease(fn, 1, CHILD_LEASE_MS))[0],
        "the lease to end",
      );
      expect(lease.attempt).toBe(2);
      const { settled, emitted } = await rerun(b, lease);
      expect(settled).toBe(true);
      expect(emitted).toHaveLength(1);
      expect((await runOnce(b, "e")).map((d) => d.event.id)).toEqual(["emitted"]);
      expect((await b.kv.get("crash", "k"))?.value).toBe(1);
      await nothingLeft(b, prefix, [fn, "e"]);
    });

    for (const point of ["settle.committed", "relay.published"] as const) {
      const what =
        lane === "stream"
          ? "the unacked delivery runs again (at least once), its emit deduplicated"
          : "the delivery is done and never runs again";
      it(`${point}: the outcome holds, the emit arrives once; ${what}`, async () => {
        const prefix = cluster();
        await crashAt(prefix, `settle-${lane}`, point);
        const b = await survivor(prefix);
        expect((await b.kv.get("crash", "k"))?.value).toBe(1);
        expect((await runOnce(b, "e")).map((d) => d.event.id)).toEqual(["emitted"]);
        if (lane === "stream") {
          const lease = await waitFor(
            async () => (await b.queue.lease(fn, 1, CHILD_LEASE_MS))[0],
            "the lease to end",
          );
          const { settled, emitted } = await rerun(b, lease);
          expect(settled).toBe(true);
          expect(emitted.map((r) => r.status)).toEqual(["duplicate"]);
        } else {
          expect(await b.queue.lease(fn, 1, LEASE_MS)).toEqual([]);
        }
        await nothingLeft(b, prefix, [fn, "e"]);
      });
    }
  });
}

it("promote.committed: a due delivery moved from scheduled to the outbox reaches its consumer once", async () => {
  const prefix = cluster();
  await crashAt(prefix, "promote", "promote.committed");
  const b = await survivor(prefix);
  expect(await runOnce(b, "l")).toHaveLength(1);
  await nothingLeft(b, prefix, ["l"]);
});

it("redrive.committed: a redriven dead letter reaches its consumer once, with its redrive counted", async () => {
  const prefix = cluster();
  await crashAt(prefix, "redrive", "redrive.committed");
  const b = await survivor(prefix);
  expect(await b.deadLetters.list("s", { limit: 10 })).toEqual([]);
  const [d] = await runOnce(b, "s");
  expect(d!.redrives).toBe(1);
  await nothingLeft(b, prefix, ["s"]);
});

it("tests every named crash point", () => {
  expect([...tested].sort()).toEqual([...CRASH_POINTS].sort());
});
