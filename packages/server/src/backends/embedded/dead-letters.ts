import type Database from "better-sqlite3";
import type {
  DeadFilter,
  DeadLetter,
  DeadLetterAdmin,
  DeadQuery,
  DeliveryInfo,
  DeliveryInspectQuery,
  ErrorInfo,
} from "../types.js";
import type { Clock } from "../../clock/clock.js";
import type { GroupCommit } from "./group-commit.js";
import type { EmbeddedLog } from "./log.js";
import { DEAD, LEASED, READY } from "./states.js";

interface DeadRow {
  id: number;
  event_seq: number;
  attempt: number;
  redrives: number;
  created_at: number;
  dead_at: number;
  last_error: string;
}

/**
 * Dead-letter queue operations and the admin view of deliveries, on SQLite: dead letters are
 * delivery rows in the dead state (see schema.ts). Writes run in group-commit transactions.
 */
export class EmbeddedDeadLetters implements DeadLetterAdmin {
  readonly #db: Database.Database;
  readonly #wq: GroupCommit;
  readonly #log: EmbeddedLog;
  readonly #counts: Database.Statement;
  readonly #clock: Clock;

  constructor(db: Database.Database, wq: GroupCommit, log: EmbeddedLog, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#wq = wq;
    this.#log = log;
    this.#counts = db.prepare(`SELECT fn, count(*) AS n FROM deliveries WHERE state = ${DEAD} GROUP BY fn`);
  }

  list(fn: string, q: DeadQuery): Promise<DeadLetter[]> {
    const { sql, args } = where(fn, q);
    const page = q.afterId !== undefined ? ` AND id > ${Number(q.afterId) || 0}` : "";
    const rows = this.#db
      .prepare(
        `SELECT id, event_seq, attempt, redrives, created_at, dead_at, last_error FROM deliveries
         WHERE ${sql}${page} ORDER BY id LIMIT ?`,
      )
      .all(...args, q.limit) as DeadRow[];
    return Promise.resolve(rows.map((r) => this.#toDead(fn, r)));
  }

  get(fn: string, id: string): Promise<DeadLetter | undefined> {
    const row = this.#db
      .prepare(
        `SELECT id, event_seq, attempt, redrives, created_at, dead_at, last_error FROM deliveries
         WHERE fn = ? AND id = ? AND state = ${DEAD}`,
      )
      .get(fn, Number(id)) as DeadRow | undefined;
    return Promise.resolve(row && this.#toDead(fn, row));
  }

  redrive(fn: string, filter: DeadFilter): Promise<number> {
    const { sql, args } = where(fn, filter);
    const stmt = this.#db.prepare(
      `UPDATE deliveries SET state = ${READY}, due_at = ?, attempt = 0, redrives = redrives + 1,
         dead_at = NULL, lease_token = NULL WHERE ${sql}`,
    );
    return this.#wq.run(() => stmt.run(this.#clock.now(), ...args).changes);
  }

  purge(fn: string, filter: DeadFilter): Promise<number> {
    const { sql, args } = where(fn, filter);
    const stmt = this.#db.prepare(`DELETE FROM deliveries WHERE ${sql}`);
    return this.#wq.run(() => stmt.run(...args).changes);
  }

  counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of this.#counts.all() as { fn: string; n: number }[]) out[r.fn] = r.n;
    return Promise.resolve(out);
  }

  inspect(q: DeliveryInspectQuery): Promise<DeliveryInfo[]> {
    const now = this.#clock.now();
    const cond =
      q.state === "leased" ? `d.state = ${LEASED} AND d.due_at > ?` : `d.state < ${DEAD} AND d.due_at <= ?`;
    const at = q.state === "leased" ? now : now - (q.overdueMs ?? 30_000);
    const fnCond = q.fn !== undefined ? " AND d.fn = ?" : "";
    const rows = this.#db
      .prepare(
        `SELECT d.id, d.fn, d.state, d.attempt, d.created_at, d.due_at, e.id AS event_id, e.type AS event_type
         FROM deliveries d JOIN events e ON e.seq = d.event_seq
         WHERE ${cond}${fnCond} ORDER BY d.due_at, d.id LIMIT ?`,
      )
      .all(...(q.fn !== undefined ? [at, q.fn, q.limit] : [at, q.limit])) as {
      id: number;
      fn: string;
      state: number;
      attempt: number;
      created_at: number;
      due_at: number;
      event_id: string;
      event_type: string;
    }[];
    return Promise.resolve(
      rows.map((r) => ({
        id: String(r.id),
        fn: r.fn,
        state: r.state === LEASED ? "leased" : "ready",
        attempt: r.attempt,
        eventId: r.event_id,
        eventType: r.event_type,
        createdAt: r.created_at,
        dueAt: r.due_at,
      })),
    );
  }

  #toDead(fn: string, r: DeadRow): DeadLetter {
    return {
      id: String(r.id),
      fn,
      event: this.#log.eventSync(r.event_seq),
      attempts: r.attempt,
      redrives: r.redrives,
      createdAt: r.created_at,
      deadAt: r.dead_at,
      error: JSON.parse(r.last_error) as ErrorInfo,
    };
  }
}

/** SQL condition for a dead-letter filter of one consumer. */
function where(fn: string, f: DeadFilter): { sql: string; args: unknown[] } {
  const parts = ["fn = ?", `state = ${DEAD}`];
  const args: unknown[] = [fn];
  if (f.ids !== undefined) {
    const ids = f.ids.map(Number).filter(Number.isInteger);
    parts.push(ids.length ? `id IN (${ids.join(",")})` : "0");
  }
  if (f.eventType !== undefined) {
    parts.push("event_seq IN (SELECT seq FROM events WHERE type = ?)");
    args.push(f.eventType);
  }
  if (f.errorName !== undefined) {
    parts.push("json_extract(last_error, '$.name') = ?");
    args.push(f.errorName);
  }
  if (f.deadAfter !== undefined) {
    parts.push("dead_at >= ?");
    args.push(f.deadAfter);
  }
  if (f.deadBefore !== undefined) {
    parts.push("dead_at < ?");
    args.push(f.deadBefore);
  }
  return { sql: parts.join(" AND "), args };
}
