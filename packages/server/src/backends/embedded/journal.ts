import type Database from "better-sqlite3";
import type { Clock } from "../../clock/clock.js";
import type {
  ErrorInfo,
  Journal,
  LeasedRun,
  NewRun,
  PendingWait,
  RunListQuery,
  RunOutcome,
  RunRow,
  StepRow,
  Suspension,
} from "../types.js";
import { MAX_RUN_LIST, PARENT_EXTENSION } from "../types.js";
import type { RunSqlRow } from "../run-row.js";
import { bodyToStep, RUN_COLUMNS, rowToRun, waitType } from "../run-row.js";
import type { GroupCommit } from "./group-commit.js";

const ACTIVE = "status IN ('running', 'sleeping', 'waiting')";

/**
 * The workflow journal on SQLite: a `runs` row per run and a `run_steps` row per step. Every write
 * goes through the group commit like the rest of the store, and the fenced ones check the lease
 * token inside the same transaction, so a stale execution can never write.
 */
export class EmbeddedJournal implements Journal {
  readonly #wq: GroupCommit;
  readonly #clock: Clock;
  readonly #tokenPrefix: string;
  #tokens = 0;
  readonly #s: Record<string, Database.Statement>;

  constructor(db: Database.Database, wq: GroupCommit, clock: Clock) {
    this.#wq = wq;
    this.#clock = clock;
    // Unique per open: a token of a previous process never matches (real time, not the clock's).
    this.#tokenPrefix = `r${process.pid.toString(36)}.${Date.now().toString(36)}.`;
    const fenced = "WHERE id = @id AND lease_token = @token";
    this.#s = {
      insert: db.prepare(
        `INSERT INTO runs (id, workflow, version, status, event, event_seq, created_at, updated_at, due_at, lease_token)
         VALUES (@id, @workflow, @version, 'running', @event, @eventSeq, @now, @now, @dueAt, @token)
         ON CONFLICT (id) DO NOTHING`,
      ),
      due: db.prepare(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE workflow = ? AND due_at <= ? AND ${ACTIVE} ORDER BY due_at LIMIT ?`,
      ),
      anyDue: db.prepare(`SELECT 1 FROM runs WHERE workflow = ? AND due_at <= ? AND ${ACTIVE} LIMIT 1`),
      take: db.prepare(
        "UPDATE runs SET lease_token = @token, due_at = @until, woken = 0, status = 'running', updated_at = @now WHERE id = @id",
      ),
      steps: db.prepare("SELECT body FROM run_steps WHERE run_id = ? ORDER BY idx"),
      owner: db.prepare("SELECT lease_token FROM runs WHERE id = ?"),
      putStep: db.prepare(
        `INSERT INTO run_steps (run_id, id, idx, body, wait_type) VALUES (@runId, @id, @idx, @body, @waitType)
         ON CONFLICT (run_id, id) DO UPDATE SET idx = excluded.idx, body = excluded.body, wait_type = excluded.wait_type`,
      ),
      suspend: db.prepare(
        `UPDATE runs SET status = @status, lease_token = NULL, updated_at = @now, failures = @failures,
           due_at = CASE WHEN woken = 1 THEN @now ELSE @dueAt END, woken = 0 ${fenced}`,
      ),
      finish: db.prepare(
        `UPDATE runs SET status = @status, lease_token = NULL, due_at = NULL, woken = 0, updated_at = @now,
           ended_at = @now, output = @output, error = @error ${fenced}`,
      ),
      clearWaits: db.prepare(
        "UPDATE run_steps SET wait_type = NULL WHERE run_id = ? AND wait_type IS NOT NULL",
      ),
      cancel: db.prepare(
        `UPDATE runs SET status = 'cancelled', lease_token = NULL, due_at = NULL, woken = 0, updated_at = @now,
           ended_at = @now, error = @error WHERE id = @id AND ${ACTIVE}`,
      ),
      retry: db.prepare(
        `UPDATE runs SET status = 'running', lease_token = NULL, due_at = @now, woken = 0, updated_at = @now,
           ended_at = NULL, output = NULL, error = NULL, failures = 0
         WHERE id = @id AND status IN ('failed', 'compensation_failed')`,
      ),
      forgetFailed: db.prepare(
        "DELETE FROM run_steps WHERE run_id = ? AND json_extract(body, '$.status') = 'failed'",
      ),
      rewait: db.prepare(
        `UPDATE run_steps SET wait_type = json_extract(body, '$.wait.type')
         WHERE run_id = ? AND json_extract(body, '$.kind') = 'wait' AND json_extract(body, '$.status') = 'pending'`,
      ),
      wakeIdle: db.prepare(
        `UPDATE runs SET due_at = @now, updated_at = @now WHERE id = @id AND lease_token IS NULL AND ${ACTIVE}`,
      ),
      wakeLeased: db.prepare(
        `UPDATE runs SET woken = 1 WHERE id = @id AND lease_token IS NOT NULL AND ${ACTIVE}`,
      ),
      wakeParent: db.prepare(
        `UPDATE runs SET due_at = CASE WHEN lease_token IS NULL THEN @now ELSE due_at END,
           woken = (lease_token IS NOT NULL)
         WHERE id = (SELECT json_extract(event, '$.${PARENT_EXTENSION}') FROM runs WHERE id = @id) AND ${ACTIVE}`,
      ),
      get: db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`),
      list: db.prepare(
        `SELECT ${RUN_COLUMNS} FROM runs
         WHERE (@workflow IS NULL OR workflow = @workflow) AND (@status IS NULL OR status = @status)
           AND (@before IS NULL OR n < (SELECT n FROM runs WHERE id = @before))
         ORDER BY n DESC LIMIT @limit`,
      ),
      next: db.prepare(
        `SELECT min(due_at) AS at FROM runs WHERE workflow = ? AND due_at IS NOT NULL AND ${ACTIVE}`,
      ),
    };
  }

  #token(): string {
    return this.#tokenPrefix + (++this.#tokens).toString(36);
  }

  create(run: NewRun, leaseMs?: number): Promise<{ created: boolean; leased?: LeasedRun }> {
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const token = leaseMs === undefined ? null : this.#token();
      const inserted = this.#s.insert!.run({
        id: run.id,
        workflow: run.workflow,
        version: run.version,
        event: JSON.stringify(run.event),
        eventSeq: run.eventSeq,
        now,
        dueAt: leaseMs === undefined ? now : now + leaseMs,
        token,
      });
      if (inserted.changes === 0) return { created: false };
      if (token === null) return { created: true };
      const row: RunRow = { ...run, status: "running", createdAt: now, updatedAt: now, failures: 0 };
      return { created: true, leased: { run: row, steps: [], token } };
    });
  }

  lease(workflow: string, limit: number, leaseMs: number): Promise<LeasedRun[]> {
    // Most looks find nothing due (every execution's end looks): those cost a read, not a commit.
    if (!this.#s.anyDue!.get(workflow, this.#clock.now())) return Promise.resolve([]);
    return this.#wq.run(() => {
      const now = this.#clock.now();
      const rows = this.#s.due!.all(workflow, now, limit) as RunSqlRow[];
      return rows.map((r) => {
        const token = this.#token();
        this.#s.take!.run({ id: r.id, token, until: now + leaseMs, now });
        const run = rowToRun({ ...r, status: "running", lease_token: token });
        run.updatedAt = now;
        const steps = (this.#s.steps!.all(r.id) as { body: string }[]).map((s) => bodyToStep(s.body));
        return { run, steps, token };
      });
    });
  }

  #owns(runId: string, token: string): boolean {
    const row = this.#s.owner!.get(runId) as { lease_token: string | null } | undefined;
    return row?.lease_token === token;
  }

  putStep(runId: string, token: string, step: StepRow): Promise<boolean> {
    return this.#wq.run(() => {
      if (!this.#owns(runId, token)) return false;
      this.#s.putStep!.run({
        runId,
        id: step.id,
        idx: step.index,
        body: JSON.stringify(step),
        waitType: waitType(step),
      });
      return true;
    });
  }

  suspend(runId: string, token: string, s: Suspension): Promise<boolean> {
    return this.#wq.run(() => {
      const r = this.#s.suspend!.run({
        id: runId,
        token,
        status: s.status,
        now: this.#clock.now(),
        dueAt: s.dueAt ?? null,
        failures: s.failures ?? 0,
      });
      return r.changes > 0;
    });
  }

  finish(runId: string, token: string, outcome: RunOutcome): Promise<boolean> {
    return this.#wq.run(() => {
      const r = this.#s.finish!.run({
        id: runId,
        token,
        status: outcome.status,
        now: this.#clock.now(),
        output: outcome.status === "succeeded" ? (JSON.stringify(outcome.output) ?? null) : null,
        error: outcome.status === "succeeded" ? null : JSON.stringify(outcome.error),
      });
      if (r.changes > 0) this.#ended(runId);
      return r.changes > 0;
    });
  }

  /** A run ended: its waits are gone, and its parent (if a child) is woken, in the same transaction. */
  #ended(runId: string): void {
    this.#s.clearWaits!.run(runId);
    this.#s.wakeParent!.run({ id: runId, now: this.#clock.now() });
  }

  cancel(runId: string, error: ErrorInfo): Promise<boolean> {
    return this.#wq.run(() => {
      const r = this.#s.cancel!.run({ id: runId, now: this.#clock.now(), error: JSON.stringify(error) });
      if (r.changes > 0) this.#ended(runId);
      return r.changes > 0;
    });
  }

  retry(runId: string): Promise<boolean> {
    return this.#wq.run(() => {
      if (this.#s.retry!.run({ id: runId, now: this.#clock.now() }).changes === 0) return false;
      this.#s.forgetFailed!.run(runId);
      this.#s.rewait!.run(runId);
      return true;
    });
  }

  wake(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return Promise.resolve();
    return this.#wq.run(() => {
      const now = this.#clock.now();
      for (const id of runIds) {
        this.#s.wakeIdle!.run({ id, now });
        this.#s.wakeLeased!.run({ id });
      }
    });
  }

  waits(types: string[], limit: number): Promise<PendingWait[]> {
    if (types.length === 0) return Promise.resolve([]);
    const rows = this.#waitsStatement(types.length).all(...types, limit) as {
      run_id: string;
      body: string;
    }[];
    return Promise.resolve(
      rows.map((r) => {
        const step = bodyToStep(r.body);
        return { runId: r.run_id, stepId: step.id, wait: step.wait! };
      }),
    );
  }

  readonly #waitStatements = new Map<number, Database.Statement>();
  #waitsStatement(n: number): Database.Statement {
    let s = this.#waitStatements.get(n);
    if (!s) {
      const db = this.#s.get!.database;
      s = db.prepare(
        `SELECT run_id, body FROM run_steps WHERE wait_type IN (${Array(n).fill("?").join(", ")}) LIMIT ?`,
      );
      if (n <= 16) this.#waitStatements.set(n, s);
    }
    return s;
  }

  get(runId: string): Promise<{ run: RunRow; steps: StepRow[] } | undefined> {
    const r = this.#s.get!.get(runId) as RunSqlRow | undefined;
    if (!r) return Promise.resolve(undefined);
    const steps = (this.#s.steps!.all(runId) as { body: string }[]).map((s) => bodyToStep(s.body));
    return Promise.resolve({ run: rowToRun(r), steps });
  }

  list(q: RunListQuery): Promise<RunRow[]> {
    const rows = this.#s.list!.all({
      workflow: q.workflow ?? null,
      status: q.status ?? null,
      before: q.before ?? null,
      limit: Math.max(0, Math.min(q.limit, MAX_RUN_LIST)),
    }) as RunSqlRow[];
    return Promise.resolve(rows.map(rowToRun));
  }

  nextDueAt(workflow: string): Promise<number | undefined> {
    const r = this.#s.next!.get(workflow) as { at: number | null };
    return Promise.resolve(r.at ?? undefined);
  }
}

/** At open: the previous process's leases are released (nobody else can hold one), due at once. */
export function releaseRunLeases(db: Database.Database, now: number): void {
  db.prepare("UPDATE runs SET lease_token = NULL, due_at = ?, woken = 0 WHERE lease_token IS NOT NULL").run(
    now,
  );
}
