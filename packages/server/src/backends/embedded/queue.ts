import type Database from "better-sqlite3";
import type {
  LeaseCore,
  LeasedDelivery,
  LeaseOptions,
  QueueCounts,
  SettleResult,
  Settlement,
  SettleWrites,
} from "../types.js";
import type { Clock } from "../../clock/clock.js";
import type { GroupCommit } from "./group-commit.js";
import type { EmbeddedKeyValue } from "./kv.js";
import type { EmbeddedLog } from "./log.js";
import type { EmbeddedRecords } from "./records.js";
import { DEAD, LEASED, READY } from "./states.js";

interface LeasedRow {
  id: number;
  event_seq: number;
  attempt: number;
  created_at: number;
  group_key: string | null;
  redrives: number;
}

const RETURNING = "RETURNING id, event_seq, attempt, created_at, group_key, redrives";
// Candidates examined per lease when groups or priority constrain the choice.
const SCAN_LIMIT = 5_000;

/** The delivery queue on SQLite. See schema.ts for the meaning of `state` and `due_at`. */
export class EmbeddedQueue implements LeaseCore {
  readonly #wq: GroupCommit;
  readonly #log: EmbeddedLog;
  readonly #records: EmbeddedRecords;
  readonly #kv: EmbeddedKeyValue;
  readonly #s: Record<string, Database.Statement>;
  #tokens = 0;
  readonly #tokenPrefix: string;
  readonly #clock: Clock;

  constructor(
    db: Database.Database,
    wq: GroupCommit,
    parts: { log: EmbeddedLog; records: EmbeddedRecords; kv: EmbeddedKeyValue },
    clock: Clock,
  ) {
    this.#wq = wq;
    this.#clock = clock;
    // Unique per open: a lease token of a previous process never matches (real time, not the clock's).
    this.#tokenPrefix = `${process.pid.toString(36)}.${Date.now().toString(36)}.`;
    this.#log = parts.log;
    this.#records = parts.records;
    this.#kv = parts.kv;
    const owned = `WHERE id = ? AND lease_token = ? AND state = ${LEASED}`;
    const due = `fn = ? AND state < ${DEAD} AND due_at <= ?`;
    this.#s = {
      lease: db.prepare(
        `UPDATE deliveries SET state = ${LEASED}, attempt = attempt + 1, lease_token = ?, due_at = ?
         WHERE id IN (SELECT id FROM deliveries WHERE ${due} ORDER BY due_at, id LIMIT ?) ${RETURNING}`,
      ),
      leaseOne: db.prepare(
        `UPDATE deliveries SET state = ${LEASED}, attempt = attempt + 1, lease_token = ?, due_at = ?
         WHERE id = ? AND state < ${DEAD} ${RETURNING}`,
      ),
      candidates: db.prepare(
        `SELECT id, group_key FROM deliveries WHERE ${due} ORDER BY due_at, id LIMIT ${SCAN_LIMIT}`,
      ),
      candidatesByPriority: db.prepare(
        `SELECT id, group_key FROM deliveries WHERE ${due} ORDER BY priority DESC, due_at, id LIMIT ${SCAN_LIMIT}`,
      ),
      leasedInGroup: db
        .prepare(
          `SELECT count(*) FROM deliveries WHERE fn = ? AND group_key = ? AND state = ${LEASED} AND due_at > ?`,
        )
        .pluck(),
      oldestInGroup: db
        .prepare(`SELECT min(id) FROM deliveries WHERE fn = ? AND group_key = ? AND state < ${DEAD}`)
        .pluck(),
      // Per-key concurrency: leases held per group, the groups with work, a group's due work.
      heldPerGroup: db.prepare(
        `SELECT group_key, count(*) AS n FROM deliveries
         WHERE fn = ? AND group_key IS NOT NULL AND state = ${LEASED} AND due_at > ? GROUP BY group_key`,
      ),
      groupsWithWork: db
        .prepare(
          `SELECT DISTINCT group_key FROM deliveries WHERE fn = ? AND group_key IS NOT NULL AND state < ${DEAD}`,
        )
        .pluck(),
      dueInGroup: db.prepare(
        `SELECT id, due_at FROM deliveries WHERE fn = ? AND group_key = ? AND state < ${DEAD} AND due_at <= ?
         ORDER BY id LIMIT ?`,
      ),
      dueWithoutGroup: db.prepare(
        `SELECT id, due_at FROM deliveries WHERE fn = ? AND group_key IS NULL AND state < ${DEAD} AND due_at <= ?
         ORDER BY due_at, id LIMIT ?`,
      ),
      // The head (oldest live delivery) of every group, with its state and due time.
      groupHeads: db.prepare(
        `SELECT d.id, d.group_key, d.state, d.due_at FROM
           (SELECT min(id) AS head FROM deliveries WHERE fn = ? AND group_key IS NOT NULL AND state < ${DEAD}
            GROUP BY group_key) h
         JOIN deliveries d ON d.id = h.head`,
      ),
      readyBatch: db.prepare(
        `SELECT coalesce(batch_key, '') AS batch_key, count(*) AS n, min(due_at) AS oldest FROM deliveries
         WHERE fn = ? AND state = ${READY} AND due_at <= ?
         GROUP BY coalesce(batch_key, '') HAVING n >= ? OR oldest <= ? ORDER BY oldest LIMIT 1`,
      ),
      unleaseExpiredBatch: db.prepare(
        `UPDATE deliveries SET state = ${READY}, lease_token = NULL WHERE fn = ? AND state = ${LEASED} AND due_at <= ?`,
      ),
      leaseBatch: db.prepare(
        `UPDATE deliveries SET state = ${LEASED}, attempt = attempt + 1, lease_token = ?, due_at = ?
         WHERE id IN (SELECT id FROM deliveries WHERE fn = ? AND coalesce(batch_key, '') = ? AND state = ${READY}
                      AND due_at <= ? ORDER BY id LIMIT ?)
         ${RETURNING}`,
      ),
      ack: db.prepare(`DELETE FROM deliveries ${owned}`),
      retry: db.prepare(
        `UPDATE deliveries SET state = ${READY}, due_at = ?, last_error = ?, lease_token = NULL ${owned}`,
      ),
      dead: db.prepare(
        `UPDATE deliveries SET state = ${DEAD}, dead_at = ?, last_error = ?, lease_token = NULL ${owned}`,
      ),
      release: db.prepare(
        `UPDATE deliveries SET state = ${READY}, due_at = ?, attempt = attempt - 1, lease_token = NULL ${owned}`,
      ),
      extend: db.prepare(`UPDATE deliveries SET due_at = ? ${owned}`),
      cancel: db.prepare(
        `DELETE FROM deliveries WHERE fn = ? AND cancel_key = ? AND state = ${READY} RETURNING id, event_seq`,
      ),
      nextDue: db.prepare(`SELECT min(due_at) FROM deliveries WHERE fn = ? AND state < ${DEAD}`).pluck(),
      counts: db.prepare(
        `SELECT sum(state = ${READY}) AS ready, sum(state = ${LEASED}) AS leased, sum(state = ${DEAD}) AS dead
         FROM deliveries WHERE fn = ?`,
      ),
    };
  }

  lease(fn: string, max: number, leaseMs: number, options: LeaseOptions = {}): Promise<LeasedDelivery[]> {
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const token = this.#token();
      const leaseUntil = now + leaseMs;
      let rows: LeasedRow[];
      if (!options.perGroup && !options.ordered && !options.byPriority) {
        rows = this.#s.lease!.all(token, leaseUntil, fn, now, max) as LeasedRow[];
        // RETURNING gives rows in no promised order; keep the queue's order (due, then id).
        rows.sort((a, b) => a.id - b.id);
      } else {
        rows = [];
        for (const id of this.#pick(fn, max, now, options)) {
          const row = this.#s.leaseOne!.get(token, leaseUntil, id) as LeasedRow | undefined;
          if (row) rows.push(row);
        }
      }
      return rows.map((r) => this.#toLeased(fn, r, token, leaseUntil));
    });
  }

  /**
   * FIFO: only the head of each group can run, and only when it is due and not leased. Looking at
   * the group heads (one index scan) instead of every queued delivery keeps this cheap when a few
   * groups hold long backlogs.
   */
  #pickOrdered(fn: string, max: number, now: number): number[] {
    const heads = this.#s.groupHeads!.all(fn) as { id: number; state: number; due_at: number }[];
    return heads
      .filter((h) => h.due_at <= now) // a leased head is due again only when its lease expired
      .sort((a, b) => a.due_at - b.due_at || a.id - b.id)
      .slice(0, max)
      .map((h) => h.id);
  }

  /**
   * Per-key concurrency: per group, only as many due deliveries as it has free slots. Asking each
   * group (an index range each) instead of scanning the queued deliveries keeps a lease's cost in
   * proportion to the number of keys, not to the backlog.
   */
  #pickPerGroup(fn: string, max: number, now: number, perGroup: number): number[] {
    const held = new Map(
      (this.#s.heldPerGroup!.all(fn, now) as { group_key: string; n: number }[]).map((r) => [
        r.group_key,
        r.n,
      ]),
    );
    const picked = this.#s.dueWithoutGroup!.all(fn, now, max) as { id: number; due_at: number }[];
    for (const g of this.#s.groupsWithWork!.all(fn) as string[]) {
      const free = perGroup - (held.get(g) ?? 0);
      if (free > 0)
        picked.push(...(this.#s.dueInGroup!.all(fn, g, now, free) as { id: number; due_at: number }[]));
    }
    return picked
      .sort((a, b) => a.due_at - b.due_at || a.id - b.id)
      .slice(0, max)
      .map((c) => c.id);
  }

  /** Chooses what to lease when groups or priorities constrain the order. */
  #pick(fn: string, max: number, now: number, options: LeaseOptions): number[] {
    if (options.ordered && !options.byPriority) return this.#pickOrdered(fn, max, now);
    if (options.perGroup !== undefined && !options.ordered && !options.byPriority) {
      return this.#pickPerGroup(fn, max, now, options.perGroup);
    }
    const perGroup = options.ordered ? 1 : (options.perGroup ?? Infinity);
    const stmt = options.byPriority ? this.#s.candidatesByPriority! : this.#s.candidates!;
    const candidates = stmt.all(fn, now) as { id: number; group_key: string | null }[];
    const inGroup = new Map<string, number>();
    const picked: number[] = [];
    for (const c of candidates) {
      if (picked.length >= max) break;
      const g = c.group_key;
      if (g !== null) {
        const held = inGroup.get(g) ?? (this.#s.leasedInGroup!.get(fn, g, now) as number);
        if (held >= perGroup) continue;
        if (options.ordered && (this.#s.oldestInGroup!.get(fn, g) as number) !== c.id) continue;
        inGroup.set(g, held + 1);
      }
      picked.push(c.id);
    }
    return picked;
  }

  leaseBatch(fn: string, maxSize: number, leaseMs: number, windowMs: number): Promise<LeasedDelivery[]> {
    return this.#wq.run(() => {
      const now = this.#clock.now();
      // An expired batch lease makes its deliveries due again (their due_at is the lease end).
      this.#s.unleaseExpiredBatch!.run(fn, now);
      const ready = this.#s.readyBatch!.get(fn, now, maxSize, now - windowMs) as
        { batch_key: string } | undefined;
      if (!ready) return [];
      const token = this.#token();
      const leaseUntil = now + leaseMs;
      const rows = this.#s.leaseBatch!.all(
        token,
        leaseUntil,
        fn,
        ready.batch_key,
        now,
        maxSize,
      ) as LeasedRow[];
      rows.sort((a, b) => a.id - b.id);
      return rows.map((r) => this.#toLeased(fn, r, token, leaseUntil));
    });
  }

  settle(lease: LeasedDelivery, settlement: Settlement, extra: SettleWrites): Promise<SettleResult> {
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const id = Number(lease.id);
      let changes: number;
      if (settlement.kind === "ack") changes = this.#s.ack!.run(id, lease.leaseToken).changes;
      else if (settlement.kind === "retry") {
        const err = JSON.stringify(settlement.error);
        changes = this.#s.retry!.run(settlement.dueAt, err, id, lease.leaseToken).changes;
      } else changes = this.#s.dead!.run(now, JSON.stringify(settlement.error), id, lease.leaseToken).changes;
      // The attempt happened whether or not we still own the lease: always keep its record.
      if (extra.invocation) this.#records.insertSync(extra.invocation, lease);
      const settled = changes === 1;
      if (settled) for (const w of extra.kv ?? []) this.#kv.writeSync(w, now);
      const emitted =
        settled && settlement.kind === "ack" && extra.emit?.length
          ? this.#log.appendSync(extra.emit, now, extra.dedupWindowMs)
          : [];
      return { settled, emitted };
    });
  }

  extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean> {
    return this.#wq.run(
      () => this.#s.extend!.run(leaseUntil, Number(lease.id), lease.leaseToken).changes === 1,
    );
  }

  release(leases: LeasedDelivery[], dueAt?: number): Promise<void> {
    return this.#wq.run(() => {
      const at = dueAt ?? this.#clock.now();
      for (const l of leases) this.#s.release!.run(at, Number(l.id), l.leaseToken);
    });
  }

  cancel(fn: string, cancelKey: string): Promise<{ id: string; eventId: string }[]> {
    return this.#wq.run(() => {
      const rows = this.#s.cancel!.all(fn, cancelKey) as { id: number; event_seq: number }[];
      return rows.map((r) => ({ id: String(r.id), eventId: this.#log.deliverySync(r.event_seq).event.id }));
    });
  }

  nextDueAt(fn: string): Promise<number | undefined> {
    return Promise.resolve((this.#s.nextDue!.get(fn) as number | null) ?? undefined);
  }

  counts(fn: string): Promise<QueueCounts> {
    const r = this.#s.counts!.get(fn) as { ready: number | null; leased: number | null; dead: number | null };
    return Promise.resolve({ ready: r.ready ?? 0, leased: r.leased ?? 0, dead: r.dead ?? 0 });
  }

  #token(): string {
    return this.#tokenPrefix + (++this.#tokens).toString(36);
  }

  #toLeased(fn: string, r: LeasedRow, token: string, leaseUntil: number): LeasedDelivery {
    const { event, trace } = this.#log.deliverySync(r.event_seq);
    const d: LeasedDelivery = {
      id: String(r.id),
      fn,
      attempt: r.attempt,
      event,
      eventSeq: r.event_seq,
      createdAt: r.created_at,
      leaseToken: token,
      leaseUntil,
      redrives: r.redrives,
    };
    if (trace) d.trace = trace;
    if (r.group_key !== null) d.groupKey = r.group_key;
    return d;
  }
}
