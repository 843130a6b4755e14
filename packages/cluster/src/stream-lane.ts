import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type pg from "pg";
import type {
  AppendResult,
  LeasedDelivery,
  QueueCounts,
  SettleResult,
  Settlement,
  SettleWrites,
} from "@eddy/server";
import { crashPoint } from "./crash-points.js";
import { applyKvWrite } from "./kv.js";
import type { TokenData } from "./lease-token.js";
import { decodeToken, encodeToken } from "./lease-token.js";
import type { ClusterLog, WorkMessage } from "./log.js";
import type { ResolvedClusterOptions } from "./options.js";
import { workSubject } from "./options.js";
import type { BeatLease, DeadNode } from "./heartbeat.js";
import type { NodeReport } from "./peers.js";
import type { PulledMessage } from "./pull.js";
import { acknowledge, deliveryCountOf, nakPayload, pullNow } from "./pull.js";
import type { ScheduledDeliveries } from "./scheduled.js";
import type { SettleWrite, SettleWriter } from "./settle-writer.js";
import { writeSettles } from "./settle-writer.js";
import type { FunctionConsumers } from "./streams.js";
import type { TableDelivery } from "./table-rows.js";
import { inTransaction } from "./transaction.js";

/** A lease this node holds: the JetStream message it stands for. */
interface Held extends TokenData {
  body: WorkMessage;
  leaseUntil: number;
  /** Renews the ack wait of a lease extended past it (see `extend`). */
  keepAlive?: NodeJS.Timeout;
}

/** What the stream lane works with besides JetStream. */
export interface StreamLaneDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  options: ResolvedClusterOptions;
  consumers: FunctionConsumers;
  pool: pg.Pool;
  log: ClusterLog;
  writer: SettleWriter;
  scheduled: ScheduledDeliveries;
  /** Tells other nodes that these consumers have work again. */
  announce: (fns: Set<string>) => void;
  /** This node took new leases (the heartbeat records them soon; ended ones can wait for the next beat). */
  changed?: () => void;
}

// A retry due this long ago that JetStream has not handed out yet is looked for again soon.
const RETRY_GRACE_MS = 1_000;
const RECHECK_MS = 25;
// Deliveries moved from the work stream to the table lane per pull.
const ABSORB_BATCH = 256;

/**
 * The stream lane, the fast one: deliveries on the work stream, one durable pull consumer per
 * function. A lease is a delivery not yet acked (the consumer's ack wait is the lease length), an
 * ack removes the delivery, a retry is a negative ack with a delay, a dead letter is a PostgreSQL
 * row written before the ack. The attempt number is JetStream's delivery count (plus the attempts
 * of earlier copies, see `release`).
 *
 * JetStream does not fence acks: an ack for a delivery whose ack wait passed is applied even if
 * the message was handed to another node meanwhile. So the lease holder fences itself: it settles
 * only before its lease ends (less a margin for the time the ack takes to arrive), counted from
 * before it asked for the message, hence never later than JetStream's own clock for it. The lease
 * token carries the ack subject and that deadline, so that another node can settle it too.
 */
export class StreamLane {
  readonly #d: StreamLaneDeps;
  readonly #o: ResolvedClusterOptions;
  readonly #held = new Map<string, Held>();
  /** Retries this node scheduled: fn → stream seq → due time. */
  readonly #retries = new Map<string, Map<number, number>>();

  constructor(deps: StreamLaneDeps) {
    this.#d = deps;
    this.#o = deps.options;
  }

  /** Leases up to `max` deliveries of `fn` from the work stream. */
  async lease(fn: string, max: number, leaseMs: number): Promise<LeasedDelivery[]> {
    const { msgs, asked, ackWait } = await this.#pull(fn, max, leaseMs);
    const length = Math.min(leaseMs, ackWait);
    const leaseUntil = asked + length;
    const validUntil = leaseUntil - margin(length);
    const out = msgs.map((m): LeasedDelivery => {
      const body = parse(m);
      const data: TokenData = {
        reply: m.reply,
        validUntil,
        streamSeq: m.streamSeq,
        fn,
        node: this.#o.nodeId,
      };
      const token = encodeToken(data);
      this.#held.set(token, { ...data, body, leaseUntil });
      this.#retries.get(fn)?.delete(m.streamSeq);
      return {
        id: `${body.s}.${fn}`,
        fn,
        attempt: (body.a ?? 0) + m.deliveryCount,
        event: body.e,
        eventSeq: body.s,
        createdAt: body.c,
        leaseToken: token,
        leaseUntil,
        redrives: body.r ?? 0,
      };
    });
    if (leaseMs > ackWait) await this.#d.consumers.grow(fn, leaseMs);
    if (out.length > 0) this.#d.changed?.();
    return out;
  }

  async #pull(fn: string, max: number, leaseMs: number) {
    await this.#d.scheduled.promoteIfDue();
    const ackWait = await this.#d.consumers.ensure(fn, leaseMs);
    const asked = Date.now();
    const msgs = await pullNow(this.#d.nc, this.#o.workStream, this.#d.consumers.name(fn), max);
    return { msgs, asked, ackWait };
  }

  /**
   * Moves what waits for `fn` on the work stream to the table lane (`store`), where a lease with
   * groups or priority, or a batch lease, can see it: a function's deliveries normally all take one
   * lane, but one whose key expression gave nothing, or that was appended before the function got
   * its key, took the stream. Stored before acked: a crash in between stores it again, a repeat
   * that the table ignores while the delivery lives (same id) or its tombstone lasts.
   */
  async absorb(fn: string, leaseMs: number, store: (list: TableDelivery[]) => Promise<void>): Promise<void> {
    for (;;) {
      const { msgs } = await this.#pull(fn, ABSORB_BATCH, leaseMs);
      if (msgs.length === 0) return;
      await store(
        msgs.map((m) => {
          const body = parse(m);
          const d: TableDelivery = {
            id: `${body.s}.${fn}`,
            fn,
            eventSeq: body.s,
            event: body.e,
            createdAt: body.c,
            // This pull is not an attempt.
            attempt: (body.a ?? 0) + m.deliveryCount - 1,
            redrives: body.r ?? 0,
          };
          return d;
        }),
      );
      await Promise.all(msgs.map((m) => acknowledge(this.#d.nc, m.reply, "+ACK")));
      if (msgs.length < ABSORB_BATCH) return;
    }
  }

  /**
   * Ends an attempt: the cluster's cross-store write (outbox.ts), fenced first. The lease must
   * still be this node's (`#claim`), else only the record is kept (the attempt happened). A plain
   * ack or retry is one PostgreSQL statement, joined with other settles (the record, and the
   * removal of a stale dead letter); a settle with emits, key-value writes or a dead letter is one
   * transaction: the emits' rows (their log messages published first, step 1 of an append, crash
   * point `settle.logged`), the key-value writes, the record and the dead letter, committed only if
   * the lease still holds (checked again last, before the commit). Then the emits are relayed and
   * JetStream told (ack, or negative ack with the retry's delay). A crash after the commit
   * (`settle.committed`) loses no outcome: the emits are in the outbox, and the delivery, not
   * acked, runs again when its lease ends (at least once), its emits deduplicated by their ids.
   */
  async settle(lease: LeasedDelivery, settlement: Settlement, extra: SettleWrites): Promise<SettleResult> {
    const held = this.#claim(lease.leaseToken);
    if (!held) {
      // The attempt happened whether or not the lease still holds: keep its record.
      if (extra.invocation) await this.#d.writer.write({ invocation: extra.invocation });
      return { settled: false, emitted: [] };
    }
    this.#forget(lease.leaseToken); // settled once: a second settle of the same lease is stale
    const kv = extra.kv ?? [];
    const emits = settlement.kind === "ack" ? (extra.emit ?? []) : [];
    const write = await this.#settleWrite(held, lease.id, settlement, extra);
    let emitted: AppendResult[] = [];
    if (kv.length === 0 && emits.length === 0 && !write.dead) {
      await this.#d.writer.write(write);
      crashPoint(this.#o, "settle.committed");
    } else {
      const staged = emits.length > 0 ? await this.#d.log.stage(emits, extra) : undefined;
      if (staged) crashPoint(this.#o, "settle.logged");
      const lost = new Error("lease lost");
      try {
        await inTransaction(this.#d.pool, async (client) => {
          if (staged) await this.#d.log.write(client, staged);
          for (const w of kv) await applyKvWrite(client, w);
          await writeSettles(client, [write]);
          if (Date.now() >= held.validUntil) throw lost;
        });
      } catch (err) {
        if (err !== lost) throw err;
        if (extra.invocation) await this.#d.writer.write({ invocation: extra.invocation });
        return { settled: false, emitted: [] };
      }
      crashPoint(this.#o, "settle.committed");
      if (staged) emitted = await this.#d.log.relay(staged);
    }
    if (Date.now() >= held.validUntil) return { settled: false, emitted };
    if (settlement.kind === "retry") {
      await acknowledge(this.#d.nc, held.reply, nakPayload(settlement.dueAt - Date.now()));
      let due = this.#retries.get(held.fn);
      if (!due) this.#retries.set(held.fn, (due = new Map()));
      due.set(held.streamSeq, settlement.dueAt);
    } else {
      await acknowledge(this.#d.nc, held.reply, "+ACK");
    }
    return { settled: true, emitted };
  }

  /** What a settle writes to PostgreSQL: the record, and the dead letter or the removal of a stale one. */
  async #settleWrite(
    held: TokenData & { body?: WorkMessage },
    id: string,
    settlement: Settlement,
    extra: SettleWrites,
  ): Promise<SettleWrite> {
    if (settlement.kind !== "dead") return { invocation: extra.invocation, clearDead: id };
    const body = held.body ?? (await this.#fetch(held));
    return {
      invocation: extra.invocation,
      dead: {
        id,
        fn: held.fn,
        event_seq: body.s,
        event_type: body.e.type,
        event: JSON.stringify(body.e),
        attempts: (body.a ?? 0) + deliveryCountOf(held.reply),
        redrives: body.r ?? 0,
        created_at: body.c,
        dead_at: Date.now(),
        error: JSON.stringify(settlement.error),
        lane: null,
      },
    };
  }

  /**
   * Moves the end of a held lease. JetStream can only restart a delivery's ack wait (`+WPI`) or
   * hand it out again (`-NAK`), so an end further away than the ack wait is kept by restarting it
   * every quarter of the ack wait until then, from this node. (Queues, whose receipts may be
   * extended through any node, take the table lane.)
   */
  async extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean> {
    const held = this.#claim(lease.leaseToken);
    if (!held) return false;
    const now = Date.now();
    if (leaseUntil <= now) {
      this.#forget(lease.leaseToken);
      await acknowledge(this.#d.nc, held.reply, "-NAK");
      return true;
    }
    await acknowledge(this.#d.nc, held.reply, "+WPI");
    const local = this.#held.get(lease.leaseToken);
    if (local) {
      local.leaseUntil = leaseUntil;
      local.validUntil = leaseUntil - margin(leaseUntil - now);
      this.#keepAlive(lease.leaseToken, local);
    }
    return true;
  }

  /**
   * Gives leases back without using up an attempt. A negative ack would count as a delivery, so
   * the delivery is published again as a new message that carries its attempt count (or stored
   * until `dueAt`), and the leased copy is acked: a crash in between leaves both, which runs the
   * delivery twice but loses nothing. The copy goes to the back of the function's queue.
   */
  async release(leases: LeasedDelivery[], dueAt?: number): Promise<void> {
    const fns = new Set<string>();
    await Promise.all(
      leases.map(async (lease) => {
        const held = this.#claim(lease.leaseToken);
        if (!held) return;
        this.#forget(lease.leaseToken);
        const body = held.body ?? (await this.#fetch(held));
        const copy: WorkMessage = { ...body, a: (body.a ?? 0) + deliveryCountOf(held.reply) - 1 };
        if (dueAt !== undefined && dueAt > Date.now()) {
          await this.#d.scheduled.add([{ id: lease.id, fn: held.fn, dueAt, body: { ...copy, d: dueAt } }]);
        } else {
          await this.#d.js.publish(workSubject(this.#o, held.fn), JSON.stringify(copy), {
            msgID: `${lease.id}~${held.streamSeq}`,
          });
          fns.add(held.fn);
        }
        await acknowledge(this.#d.nc, held.reply, "+ACK");
      }),
    );
    if (fns.size > 0) this.#d.announce(fns);
  }

  /**
   * Exact for what this node knows (its leases, the retries it scheduled, deliveries waiting in
   * PostgreSQL); for leases and retries of other nodes, which only JetStream times, it answers
   * "look again in `pollMs`".
   */
  async nextDueAt(fn: string): Promise<number | undefined> {
    const now = Date.now();
    let next = Infinity;
    let mine = 0;
    for (const h of this.#held.values()) {
      if (h.fn !== fn) continue;
      mine++;
      next = Math.min(next, h.leaseUntil);
    }
    const retries = this.#retries.get(fn);
    for (const [seq, due] of retries ?? []) {
      if (due < now - RETRY_GRACE_MS) {
        retries!.delete(seq);
        continue;
      }
      mine++;
      next = Math.min(next, due > now ? due : now + RECHECK_MS);
    }
    const [info, scheduled] = await Promise.all([
      this.#d.consumers.info(fn),
      this.#d.scheduled.nextDueAt(fn),
    ]);
    if (scheduled !== undefined) next = Math.min(next, scheduled > now ? scheduled : now + RECHECK_MS);
    if (info && info.num_pending > 0) return now;
    // No consumer yet (never leased): what waits is the function's messages in the stream.
    if (!info && (await this.#unconsumed(fn)) > 0) return now;
    if (info && info.num_ack_pending > mine) next = Math.min(next, now + this.#o.pollMs);
    return next === Infinity ? undefined : next;
  }

  /** `leased` counts JetStream's unacked deliveries, which include retries waiting for their time. */
  async counts(fn: string): Promise<Omit<QueueCounts, "dead">> {
    const [info, waiting] = await Promise.all([this.#d.consumers.info(fn), this.#d.scheduled.count(fn)]);
    if (info) return { ready: info.num_pending + waiting, leased: info.num_ack_pending };
    return { ready: (await this.#unconsumed(fn)) + waiting, leased: 0 };
  }

  /** The messages of `fn` in the work stream: what waits for a function that has no consumer yet. */
  async #unconsumed(fn: string): Promise<number> {
    const subject = workSubject(this.#o, fn);
    const stream = await this.#d.jsm.streams.info(this.#o.workStream, { subjects_filter: subject });
    return stream.state.subjects?.[subject] ?? 0;
  }

  /** This node's leases (of `fn`, or all) and the retries it scheduled, for the admin view. */
  report(fn: string | undefined): NodeReport {
    const leases: NodeReport["leases"] = this.beatLeases(fn).map(({ reply: _, ...l }) => l);
    const retries: NodeReport["retries"] = [];
    for (const [f, due] of this.#retries) {
      if (fn !== undefined && f !== fn) continue;
      for (const [streamSeq, dueAt] of due) retries.push({ fn: f, streamSeq, dueAt });
    }
    return { node: this.#o.nodeId, instance: this.#o.instance, leases, retries };
  }

  /** This node's leases that have not ended (of `fn`, or all), with their ack subjects: what a heartbeat records. */
  beatLeases(fn?: string): BeatLease[] {
    const now = Date.now();
    const leases: BeatLease[] = [];
    for (const h of this.#held.values()) {
      if ((fn !== undefined && h.fn !== fn) || h.leaseUntil <= now) continue;
      leases.push({
        id: `${h.body.s}.${h.fn}`,
        fn: h.fn,
        streamSeq: h.streamSeq,
        attempt: (h.body.a ?? 0) + deliveryCountOf(h.reply),
        eventId: h.body.e.id,
        eventType: h.body.e.type,
        createdAt: h.body.c,
        leaseUntil: h.leaseUntil,
        reply: h.reply,
      });
    }
    return leases;
  }

  /**
   * Hands a dead node's leases out again now: a negative ack on the ack subject of each one whose
   * end has not come (until then JetStream has not handed it to anyone else, so the negative ack
   * can only be for the dead node's delivery). Resolves how many it gave back.
   */
  async takeOver(dead: DeadNode): Promise<number> {
    const fns = new Set<string>();
    let n = 0;
    await Promise.all(
      dead.leases
        .filter((l) => l.leaseUntil > Date.now())
        .map(async (l) => {
          try {
            await acknowledge(this.#d.nc, l.reply, "-NAK");
            fns.add(l.fn);
            n++;
          } catch (err) {
            this.#o.log?.warn({ err, delivery: l.id }, "[cluster] could not give back a dead node's lease");
          }
        }),
    );
    if (fns.size > 0) this.#d.announce(fns);
    return n;
  }

  /** This node was taken for dead and its leases were handed out again: it holds none now. */
  dropAll(): void {
    for (const token of [...this.#held.keys()]) this.#forget(token);
  }

  /** Stops the keep-alive timers of extended leases (closing the backend). */
  close(): void {
    for (const h of this.#held.values()) clearTimeout(h.keepAlive);
  }

  /**
   * The lease behind a token if it is still held: this node's own leases from its map; another
   * node's by the token's deadline (this node cannot know whether that node settled it already).
   */
  #claim(token: string): (TokenData & { body?: WorkMessage }) | undefined {
    const local = this.#held.get(token);
    if (local) {
      if (Date.now() < local.validUntil) return local;
      this.#forget(token);
      return undefined;
    }
    const t = decodeToken(token);
    if (!t || t.node === this.#o.nodeId || Date.now() >= t.validUntil) return undefined;
    return t;
  }

  #forget(token: string): void {
    const h = this.#held.get(token);
    if (h) clearTimeout(h.keepAlive);
    this.#held.delete(token);
  }

  /** The work message of a lease another node took (it is still in the stream: not acked yet). */
  async #fetch(t: TokenData): Promise<WorkMessage> {
    const m = await this.#d.jsm.streams.getMessage(this.#o.workStream, { seq: t.streamSeq });
    if (!m) throw new Error(`[cluster] delivery ${t.streamSeq} of ${t.fn} is no longer in the work stream`);
    return m.json<WorkMessage>();
  }

  #keepAlive(token: string, h: Held): void {
    clearTimeout(h.keepAlive);
    void this.#d.consumers.ensure(h.fn, 30_000).then((ackWait) => {
      if (this.#held.get(token) !== h || h.leaseUntil <= Date.now() + ackWait) return;
      // A quarter of the ack wait: a late timer or a slow round trip still lands in time.
      h.keepAlive = setTimeout(
        () => {
          if (this.#held.get(token) !== h) return;
          this.#d.nc.publish(h.reply, "+WPI");
          this.#keepAlive(token, h);
        },
        Math.max(5, ackWait / 4),
      );
      h.keepAlive.unref();
    });
  }
}

function parse(m: PulledMessage): WorkMessage {
  return JSON.parse(new TextDecoder().decode(m.data)) as WorkMessage;
}

/** How long before its end a lease stops counting as held: the time an ack may take to arrive. */
function margin(lengthMs: number): number {
  return Math.min(1_000, lengthMs / 10);
}
