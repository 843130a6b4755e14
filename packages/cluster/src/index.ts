/**
 * @eddy/cluster: Eddy's backend for many nodes, on NATS JetStream (event log, work distribution,
 * leases as ack waits, retries as delayed negative acks) and PostgreSQL (dedup window, invocation
 * records, dead letters, key-value). See docs/cluster.md.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { Backend } from "@eddy/server";
import { ClusterConnectError, connectNats, connectPostgres } from "./connect.js";
import { ClusterDeadLetters } from "./dead-letters.js";
import { ClusterKeyValue } from "./kv.js";
import { ClusterLog } from "./log.js";
import { migrate } from "./migrations.js";
import type { ClusterOptions, ResolvedClusterOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { ClusterQueue } from "./queue.js";
import { ClusterRecords } from "./records.js";
import { ScheduledDeliveries } from "./scheduled.js";
import { SettleWriter } from "./settle-writer.js";
import { ensureStreams, FunctionConsumers } from "./streams.js";

export { ClusterConnectError } from "./connect.js";
export type { ClusterOptions } from "./options.js";

const SWEEP_INTERVAL_MS = 60_000;

/**
 * Opens the cluster backend: connects to NATS and PostgreSQL (failing with a
 * {@link ClusterConnectError} that names the address and what to run), creates the JetStream
 * streams and applies the PostgreSQL migrations if needed. Any number of nodes may open the same
 * cluster (same servers and prefix) at once; they share the work.
 *
 * Unlike the embedded store, opening releases no lease: other nodes hold theirs. The leases of a
 * node that died end with their ack wait, and JetStream hands the work out again.
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
    if (err instanceof ClusterConnectError) throw err;
    throw new Error(
      `[cluster] could not prepare the cluster's streams and tables: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  watchConnection(nc, o);

  const js = jetstream(nc);
  const listeners = new Set<(fns: string[]) => void>();
  const announce = (fns: Set<string>) =>
    nc.publish(o.wakeSubject, JSON.stringify({ n: o.nodeId, f: [...fns] }));
  const wakeSub = nc.subscribe(o.wakeSubject, {
    callback: (_err, msg) => {
      try {
        const { n, f } = msg.json<{ n: string; f: string[] }>();
        if (n !== o.nodeId) for (const l of listeners) l(f);
      } catch {
        // not ours; ignore
      }
    },
  });
  // Broadcasts (cache invalidations, revoked keys): core NATS, one subject per topic.
  const broadcastSubject = (topic: string) => `${o.wakeSubject}.broadcast.${topic}`;
  const scheduled = new ScheduledDeliveries(pool, js, o, announce);
  const log = new ClusterLog(js, jsm, pool, o, scheduled, announce);
  const writer = new SettleWriter(pool);
  const consumers = new FunctionConsumers(jsm, o);
  const kv = new ClusterKeyValue(pool);
  const dead = new ClusterDeadLetters(pool, js, o, announce);
  const queue = new ClusterQueue({
    nc,
    js,
    jsm,
    options: o,
    consumers,
    log,
    kv,
    writer,
    scheduled,
    dead,
    announce,
  });
  const records = new ClusterRecords(pool, writer);

  const sweeper = setInterval(() => {
    const now = pool.query("DELETE FROM kv WHERE expires_at < now_ms() - 86400000");
    Promise.all([log.sweep(), now]).catch((err: unknown) => o.log?.warn({ err }, "[cluster] sweep failed"));
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  let closed: Promise<void> | undefined;
  return {
    name: "cluster",
    log,
    queue,
    kv,
    records,
    onDeliveries(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    broadcast(topic, message) {
      nc.publish(broadcastSubject(topic), JSON.stringify({ n: o.nodeId, m: message }));
    },
    onBroadcast(topic, listener) {
      const sub = nc.subscribe(broadcastSubject(topic), {
        callback: (_err, msg) => {
          try {
            const { n, m } = msg.json<{ n: string; m: unknown }>();
            if (n !== o.nodeId) listener(m);
          } catch {
            // not ours; ignore
          }
        },
      });
      return () => sub.unsubscribe();
    },
    close: () =>
      (closed ??= (async () => {
        clearInterval(sweeper);
        wakeSub.unsubscribe();
        queue.close();
        await scheduled.close();
        await writer.flush();
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
