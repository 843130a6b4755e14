import type Database from "better-sqlite3";
import type {
  AppendEntry,
  AppendResult,
  DeadLetter,
  DeliveryQueue,
  ErrorInfo,
  InvocationRecord,
  LeasedDelivery,
  QueueCounts,
  Settlement,
} from "../types.js";
import type { GroupCommit } from "./group-commit.js";
import type { EmbeddedLog } from "./log.js";
import type { EmbeddedRecords } from "./records.js";

const READY = 0;
const LEASED = 1;
const DEAD = 2;

interface LeasedRow {
  id: number;
  event_seq: number;
  attempt: number;
  created_at: number;
}

/** The delivery queue on SQLite. See schema.ts for the meaning of `state` and `due_at`. */
export class EmbeddedQueue implements DeliveryQueue {
  readonly #wq: GroupCommit;
  readonly #log: EmbeddedLog;
  readonly #records: EmbeddedRecords;
  readonly #lease: Database.Statement;
  readonly #ack: Database.Statement;
  readonly #retry: Database.Statement;
  readonly #dead: Database.Statement;
  readonly #release: Database.Statement;
  readonly #nextDue: Database.Statement;
  readonly #counts: Database.Statement;
  readonly #listDead: Database.Statement;
  #tokens = 0;
  readonly #tokenPrefix = `${process.pid.toString(36)}.${Date.now().toString(36)}.`;

  constructor(db: Database.Database, wq: GroupCommit, log: EmbeddedLog, records: EmbeddedRecords) {
    this.#wq = wq;
    this.#log = log;
    this.#records = records;
    this.#lease = db.prepare(
      `UPDATE deliveries SET state = ${LEASED}, attempt = attempt + 1, lease_token = ?, due_at = ?
       WHERE id IN (SELECT id FROM deliveries WHERE fn = ? AND state < ${DEAD} AND due_at <= ? ORDER BY due_at, id LIMIT ?)
       RETURNING id, event_seq, attempt, created_at`,
    );
    const owned = `WHERE id = ? AND lease_token = ? AND state = ${LEASED}`;
    this.#ack = db.prepare(`DELETE FROM deliveries ${owned}`);
    this.#retry = db.prepare(
      `UPDATE deliveries SET state = ${READY}, due_at = ?, last_error = ?, lease_token = NULL ${owned}`,
    );
    this.#dead = db.prepare(
      `UPDATE deliveries SET state = ${DEAD}, dead_at = ?, last_error = ?, lease_token = NULL ${owned}`,
    );
    this.#release = db.prepare(
      `UPDATE deliveries SET state = ${READY}, due_at = ?, attempt = attempt - 1, lease_token = NULL ${owned}`,
    );
    this.#nextDue = db.prepare(`SELECT min(due_at) FROM deliveries WHERE fn = ? AND state < ${DEAD}`).pluck();
    this.#counts = db.prepare(
      `SELECT sum(state = ${READY}) AS ready, sum(state = ${LEASED}) AS leased, sum(state = ${DEAD}) AS dead
       FROM deliveries WHERE fn = ?`,
    );
    this.#listDead = db.prepare(
      `SELECT id, event_seq, attempt, created_at, dead_at, last_error FROM deliveries
       WHERE fn = ? AND state = ${DEAD} ORDER BY dead_at, id LIMIT ?`,
    );
  }

  lease(fn: string, max: number, leaseMs: number): Promise<LeasedDelivery[]> {
    return this.#wq.run(() => {
      const now = Date.now();
      const token = this.#tokenPrefix + (++this.#tokens).toString(36);
      const leaseUntil = now + leaseMs;
      const rows = this.#lease.all(token, leaseUntil, fn, now, max) as LeasedRow[];
      // RETURNING gives rows in no promised order; keep the queue's order (due, then id).
      rows.sort((a, b) => a.id - b.id);
      return rows.map((r) => ({
        id: String(r.id),
        fn,
        attempt: r.attempt,
        event: this.#log.eventSync(r.event_seq),
        eventSeq: r.event_seq,
        createdAt: r.created_at,
        leaseToken: token,
        leaseUntil,
      }));
    });
  }

  settle(
    lease: LeasedDelivery,
    settlement: Settlement,
    extra: { invocation: InvocationRecord; emit?: AppendEntry[]; dedupWindowMs: number },
  ): Promise<{ settled: boolean; emitted: AppendResult[] }> {
    return this.#wq.run(() => {
      const now = Date.now();
      const id = Number(lease.id);
      let changes: number;
      if (settlement.kind === "ack") changes = this.#ack.run(id, lease.leaseToken).changes;
      else if (settlement.kind === "retry") {
        changes = this.#retry.run(
          settlement.dueAt,
          errorJson(settlement.error),
          id,
          lease.leaseToken,
        ).changes;
      } else changes = this.#dead.run(now, errorJson(settlement.error), id, lease.leaseToken).changes;
      // The attempt happened whether or not we still own the lease: always keep its record.
      this.#records.insertSync(extra.invocation);
      const settled = changes === 1;
      const emitted =
        settled && settlement.kind === "ack" && extra.emit?.length
          ? this.#log.appendSync(extra.emit, now, extra.dedupWindowMs)
          : [];
      return { settled, emitted };
    });
  }

  release(leases: LeasedDelivery[]): Promise<void> {
    return this.#wq.run(() => {
      const now = Date.now();
      for (const l of leases) this.#release.run(now, Number(l.id), l.leaseToken);
    });
  }

  nextDueAt(fn: string): Promise<number | undefined> {
    const v = this.#nextDue.get(fn) as number | null;
    return Promise.resolve(v ?? undefined);
  }

  counts(fn: string): Promise<QueueCounts> {
    const r = this.#counts.get(fn) as { ready: number | null; leased: number | null; dead: number | null };
    return Promise.resolve({ ready: r.ready ?? 0, leased: r.leased ?? 0, dead: r.dead ?? 0 });
  }

  listDead(fn: string, limit: number): Promise<DeadLetter[]> {
    const rows = this.#listDead.all(fn, limit) as (LeasedRow & { dead_at: number; last_error: string })[];
    return Promise.resolve(
      rows.map((r) => ({
        id: String(r.id),
        fn,
        event: this.#log.eventSync(r.event_seq),
        attempts: r.attempt,
        createdAt: r.created_at,
        deadAt: r.dead_at,
        error: JSON.parse(r.last_error) as ErrorInfo,
      })),
    );
  }
}

function errorJson(e: ErrorInfo): string {
  return JSON.stringify(e);
}
