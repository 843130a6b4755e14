import type { JetStreamManager, MsgRequest } from "@nats-io/jetstream";
import type { DeliveryInfo, DeliveryInspectQuery } from "@eddy/server";
import type { Heartbeat } from "./heartbeat.js";
import type { WorkMessage } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { fnOfWorkSubject, workSubject } from "./options.js";
import type { Peers } from "./peers.js";
import type { FunctionConsumers } from "./streams.js";

/** What the admin view of the work stream reads. */
export interface StreamInspectDeps {
  jsm: JetStreamManager;
  options: ResolvedClusterOptions;
  consumers: FunctionConsumers;
  peers: Peers;
  heartbeat: Pick<Heartbeat, "rows">;
}

// Messages read per admin request at most, over all functions: the view is for people, not a scan.
const SCAN_BUDGET = 5_000;

/**
 * The admin view of the stream lane. Leased: what the live nodes report they hold, with their
 * lease ends (peers.ts), and what the last heartbeat of a node that did not answer says it held
 * (marked `nodeLost` once that node is taken for dead: it is taken over within seconds). Overdue: the messages still in the work stream (acked ones are gone) past
 * each consumer's ack floor, oldest first, that no live node holds, due (a retry's due time if a
 * node knows it, else when the delivery was due or made) more than `overdueMs` ago. A lease of a
 * node that died shows up there too once it is that old: it is work that should be running.
 */
export async function inspectStream(
  deps: StreamInspectDeps,
  q: DeliveryInspectQuery,
): Promise<DeliveryInfo[]> {
  const now = Date.now();
  const [reports, beats] = await Promise.all([deps.peers.gather(q.fn), deps.heartbeat.rows()]);
  // Nodes that did not answer (dead, or slow) show the leases of their last heartbeat.
  const answered = new Set(reports.map((r) => r.instance));
  const silent = beats.filter((b) => !answered.has(b.instance));
  const leases = [
    ...reports.flatMap((r) => r.leases.map((l) => ({ ...l, node: r.node, nodeLost: false }))),
    ...silent.flatMap((b) => b.leases.map((l) => ({ ...l, node: b.node, nodeLost: !b.alive }))),
  ].filter((l) => l.leaseUntil > now);
  if (q.state === "leased") {
    return leases
      .filter((l) => q.fn === undefined || l.fn === q.fn)
      .map((l) => ({
        id: l.id,
        fn: l.fn,
        state: "leased" as const,
        attempt: l.attempt,
        eventId: l.eventId,
        eventType: l.eventType,
        createdAt: l.createdAt,
        dueAt: l.leaseUntil,
        node: l.node,
        ...(l.nodeLost ? { nodeLost: true } : {}),
      }))
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, q.limit);
  }
  // A lease of a node taken for dead is work that should be running and is not: overdue too.
  const held = new Set(leases.filter((l) => !l.nodeLost).map((l) => `${l.fn}\u0000${l.streamSeq}`));
  const retries = new Map(
    reports.flatMap((r) => r.retries.map((x) => [`${x.fn}\u0000${x.streamSeq}`, x.dueAt])),
  );
  const before = now - (q.overdueMs ?? 30_000);
  const o = deps.options;
  let subjects: string[];
  if (q.fn !== undefined) subjects = [workSubject(o, q.fn)];
  else {
    const info = await deps.jsm.streams.info(o.workStream, { subjects_filter: `${o.prefix}.work.*` });
    subjects = Object.keys(info.state.subjects ?? {});
  }
  const out: DeliveryInfo[] = [];
  let budget = SCAN_BUDGET;
  for (const subject of subjects) {
    const fn = fnOfWorkSubject(o, subject);
    const consumer = await deps.consumers.info(fn);
    let seq = (consumer?.ack_floor.stream_seq ?? 0) + 1;
    for (let seen = 0; seen < q.limit + 100 && budget > 0; seen++, budget--) {
      // `next_by_subj` is in the server's API since 2.9; the client types only give it to direct gets.
      const request = { seq, next_by_subj: subject } as unknown as MsgRequest;
      const m = await deps.jsm.streams.getMessage(o.workStream, request).catch(() => null);
      if (!m) break;
      seq = m.seq + 1;
      const key = `${fn}\u0000${m.seq}`;
      if (held.has(key)) continue;
      const body = m.json<WorkMessage>();
      const dueAt = retries.get(key) ?? body.d ?? body.c;
      if (dueAt > before) continue;
      out.push({
        id: `${body.s}.${fn}`,
        fn,
        state: "ready",
        attempt: body.a ?? 0,
        eventId: body.e.id,
        eventType: body.e.type,
        createdAt: body.c,
        dueAt,
      });
    }
  }
  return out.sort((a, b) => a.dueAt - b.dueAt).slice(0, q.limit);
}
