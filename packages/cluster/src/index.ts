/**
 * @eddy/cluster: Eddy's backend for many nodes, on NATS JetStream (event log, work distribution
 * of plain deliveries: leases as ack waits, retries as delayed negative acks) and PostgreSQL (dedup
 * window, invocation records, dead letters, key-value, bundles, and the table lane: deliveries with
 * flow-control keys and queue messages, leased with row locks). See docs/cluster.md.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { Backend } from "@eddy/server";
import { ClusterDeadLetterAdmin } from "./admin.js";
import { NatsBroadcast } from "./broadcast.js";
import { EddyError } from "eddy";
import { ClusterBundles } from "./bundles.js";
import { connectNats, connectPostgres } from "./connect.js";
import { ClusterSetupError } from "./errors.js";
import { ClusterDeadLetters } from "./dead-letters.js";
import { Heartbeat } from "./heartbeat.js";
import { ClusterJournal } from "./journal.js";
import { ClusterKeyValue } from "./kv.js";
import { ClusterLog } from "./log.js";
import { migrate } from "./migrations.js";
import type { ClusterOptions, ResolvedClusterOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { Peers } from "./peers.js";
import { Outbox } from "./outbox.js";
import { ClusterQueue } from "./queue.js";
import { tableAcks } from "./table-settle.js";
import { ClusterRecords } from "./records.js";
import { ScheduledDeliveries } from "./scheduled.js";
import { SettleWriter } from "./settle-writer.js";
import { StreamLane } from "./stream-lane.js";
import { ensureStreams, FunctionConsumers } from "./streams.js";
import type { TableNotify } from "./table-lane.js";
import { TableLane } from "./table-lane.js";
import { ClusterTraces } from "./traces.js";

export * from "./errors.js";
export type { CrashPoint, FaultInjector } from "./crash-points.js";
export { CRASH_POINTS } from "./crash-points.js";
export type { ClusterOptions } from "./options.js";

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Opens the cluster backend: connects to NATS and PostgreSQL (failing with a
 * {@link ClusterConnectError} that names the address and what to run), creates the JetStream
 * streams and applies the PostgreSQL migrations if needed. Any number of nodes may open the same
 * cluster (same servers and prefix) at once; they share the work.
 *
 * Unlike the embedded store, opening releases no lease: other nodes hold theirs. The leases of a
 * node that died are taken over by another node once it missed its heartbeats for `deadAfterMs`
 * (heartbeat.ts); those it took just before dying end with their ack wait.
 *
 * @example
 * const backend = await openClusterBackend({
 *   nats: "nats://127.0.0.1:4222",
 *   postgres: "postgres://postgres@127.0.0.1:5432/eddy",
 * });
 * const eddy = await startEddy({ dir: "examples/shop", backend });
 */
export async function openClusterBackend(options: ClusterOptions): Promise<Backend> {
  const o = resolveOptions(options);
  const { nc, jsm } = await connectNats(o);
  let pool;
  try {
    pool = await connectPostgres(o);
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
  try {
    await migrate(pool, o.prefix);
    await ensureStreams(jsm, o);
  } catch (err) {
    await Promise.all([nc.close().catch(() => undefined), pool.end().catch(() => undefined)]);
    if (err instanceof EddyError) throw err;
    throw new ClusterSetupError(
      `[cluster] could not prepare the cluster's streams and tables: ${(err as Error).message}`,
      err,
    );
  }
  watchConnection(nc, o);

  const js = jetstream(nc);
  const listeners = new Set<(fns: string[]) => void>();
  // "New work for these consumers", to every other node; `t`: the ones whose table lane changed,
  // so that a node that found those lanes empty looks again.
  const announce = (fns: Set<string>, table: Set<string> = new Set()) =>
    nc.publish(
      o.wakeSubject,
      JSON.stringify({ n: o.nodeId, f: [...fns], ...(table.size > 0 ? { t: [...table] } : {}) }),
    );
  // Settles that free a group come in bursts: one wake per consumer per turn of the event loop.
  let toAnnounce: Set<string> | undefined;
  const toWake = new Set<string>();
  const notifyTable: TableNotify = (fns, local) => {
    table.touch(fns);
    if (!toAnnounce) {
      toAnnounce = new Set();
      setImmediate(() => {
        const all = toAnnounce!;
        const here = [...toWake];
        toAnnounce = undefined;
        toWake.clear();
        try {
          announce(all, all);
        } catch {
          // closed meanwhile: nobody is left to tell
        }
        if (here.length > 0) for (const l of listeners) l(here);
      });
    }
    for (const fn of fns) {
      toAnnounce.add(fn);
      if (local) toWake.add(fn);
    }
  };
  const table = new TableLane(pool, o, notifyTable);
  const wakeSub = nc.subscribe(o.wakeSubject, {
    callback: (_err, msg) => {
      try {
        const { n, f, t } = msg.json<{ n: string; f: string[]; t?: string[] }>();
        if (n === o.nodeId) return;
        if (t) table.touch(t);
        for (const l of listeners) l(f);
      } catch {
        // not ours; ignore
      }
    },
  });
  // Every write across PostgreSQL and JetStream goes through the outbox (outbox.ts, docs/cluster.md).
  const outbox = new Outbox(pool, js, o, (fns) => announce(fns));
  const scheduled = new ScheduledDeliveries(pool, outbox, o, (fns) => announce(fns));
  const log = new ClusterLog(js, jsm, pool, o, { scheduled, table, outbox }, announce);
  const writer = new SettleWriter(pool);
  const consumers = new FunctionConsumers(jsm, o);
  const kv = new ClusterKeyValue(pool);
  const dead = new ClusterDeadLetters(pool, outbox, o, (fns, t) => {
    table.touch(t);
    announce(fns, t);
  });
  const stream = new StreamLane({
    nc,
    js,
    jsm,
    options: o,
    consumers,
    pool,
    log,
    writer,
    scheduled,
    announce: (fns) => announce(fns),
    changed: () => heartbeat.touch(),
  });
  const heartbeat: Heartbeat = new Heartbeat({
    pool,
    options: o,
    leases: () => stream.beatLeases(),
    async takeOver(dead) {
      const n = (await stream.takeOver(dead)) + (await table.takeOver(dead.instance));
      // This node's dispatchers look at once too (the wake message reaches only the others).
      const fns = [...new Set(dead.leases.map((l) => l.fn))];
      if (fns.length > 0) for (const l of listeners) l(fns);
      return n;
    },
    lost: () => stream.dropAll(),
  });
  const peers = new Peers(nc, o.inspectSubject, (fn) => stream.report(fn));
  const queue = new ClusterQueue({
    stream,
    table,
    dead,
    settleDeps: { pool, log, options: o, notify: notifyTable, ack: tableAcks(pool) },
  });
  const deadLetters = new ClusterDeadLetterAdmin(dead, table, {
    jsm,
    options: o,
    consumers,
    peers,
    heartbeat,
  });
  const records = new ClusterRecords(pool, writer);

  const sweeper = setInterval(() => {
    const now = pool.query("DELETE FROM kv WHERE expires_at < now_ms() - 86400000");
    Promise.all([log.sweep(), table.sweep(), now]).catch((err: unknown) =>
      o.log?.warn({ err }, "[cluster] sweep failed"),
    );
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();
  try {
    await heartbeat.start();
  } catch (err) {
    clearInterval(sweeper);
    await Promise.all([nc.close().catch(() => undefined), pool.end().catch(() => undefined)]);
    throw new ClusterSetupError(
      `[cluster] could not write this node's heartbeat: ${(err as Error).message}`,
      err,
    );
  }

  let closed: Promise<void> | undefined;
  return {
    name: "cluster",
    log,
    queue,
    deadLetters,
    kv,
    records,
    traces: new ClusterTraces(pool, log),
    journal: new ClusterJournal(pool),
    capabilities: {
      bundles: new ClusterBundles(pool),
      wakeups: {
        onDeliveries(listener) {
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      broadcast: new NatsBroadcast(nc, o),
    },
    close: () =>
      (closed ??= (async () => {
        clearInterval(sweeper);
        await heartbeat.close();
        wakeSub.unsubscribe();
        peers.close();
        queue.close();
        await scheduled.close();
        await writer.flush();
        await outbox.close();
        await nc.close().catch(() => undefined);
        await pool.end().catch(() => undefined);
      })()),
  };
}

/** Logs losing and regaining NATS; the client reconnects by itself. */
function watchConnection(nc: NatsConnection, o: ResolvedClusterOptions): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") o.log?.warn({ server: s.server }, "[cluster] lost NATS; reconnecting");
      else if (s.type === "reconnect") o.log?.info({ server: s.server }, "[cluster] NATS connection back");
    }
  })().catch(() => undefined);
}

/** The resolved options (for tests and tools). */
export type { ResolvedClusterOptions };
