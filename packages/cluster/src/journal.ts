import { randomBytes } from "node:crypto";
import type pg from "pg";
import type {
  ErrorInfo,
  Journal,
  LeasedRun,
  NewRun,
  PendingWait,
  RunListQuery,
  RunOutcome,
  RunRow,
  RunSqlRow,
  StepRow,
  Suspension,
} from "@eddy/server";
import { bodyToStep, MAX_RUN_LIST, PARENT_EXTENSION, RUN_COLUMNS, rowToRun, waitType } from "@eddy/server";

const ACTIVE = "status IN ('running', 'sleeping', 'waiting')";
const COLUMNS = RUN_COLUMNS.split(", ")
  .map((c) => `r.${c}`)
  .join(", ");

/**
 * The workflow journal in PostgreSQL, with the embedded store's semantics; times are PostgreSQL's
 * (`now_ms()`), the one clock the nodes share. Every operation is one statement, so one
 * transaction. A step write locks its run's row (FOR SHARE) while it checks the lease token, so a
 * lease taken by another node waits for it and then reads the step: a step journaled under a
 * lease is never missed by the next one.
 */
export class ClusterJournal implements Journal {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async create(run: NewRun, leaseMs?: number): Promise<{ created: boolean; leased?: LeasedRun }> {
    const token = leaseMs === undefined ? null : newToken();
    const { rows } = await this.#pool.query<{ created_at: string }>(
      `INSERT INTO runs (id, workflow, version, status, event, event_seq, created_at, updated_at, due_at, lease_token)
       VALUES ($1, $2, $3, 'running', $4, $5, now_ms(), now_ms(), now_ms() + coalesce($6::bigint, 0), $7)
       ON CONFLICT (id) DO NOTHING RETURNING created_at`,
      [run.id, run.workflow, run.version, JSON.stringify(run.event), run.eventSeq, leaseMs ?? null, token],
    );
    const row = rows[0];
    if (!row) return { created: false };
    if (token === null) return { created: true };
    const at = Number(row.created_at);
    const leased: RunRow = { ...run, status: "running", createdAt: at, updatedAt: at, failures: 0 };
    return { created: true, leased: { run: leased, steps: [], token } };
  }

  async lease(workflow: string, limit: number, leaseMs: number): Promise<LeasedRun[]> {
    const prefix = newToken();
    const { rows } = await this.#pool.query<RunSqlRow>(
      `WITH picked AS (
         SELECT id FROM runs WHERE workflow = $1 AND due_at <= now_ms() AND ${ACTIVE}
         ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED
       )
       UPDATE runs r SET lease_token = $3 || '.' || r.n, due_at = now_ms() + $4::bigint, woken = false,
         status = 'running', updated_at = now_ms()
       FROM picked p WHERE r.id = p.id RETURNING ${COLUMNS}`,
      [workflow, limit, prefix, leaseMs],
    );
    if (rows.length === 0) return [];
    const steps = await this.#steps(rows.map((r) => r.id));
    return rows.map((r) => ({ run: rowToRun(r), steps: steps.get(r.id) ?? [], token: r.lease_token! }));
  }

  async #steps(runIds: string[]): Promise<Map<string, StepRow[]>> {
    const { rows } = await this.#pool.query<{ run_id: string; body: string }>(
      "SELECT run_id, body FROM run_steps WHERE run_id = ANY($1::text[]) ORDER BY run_id, idx",
      [runIds],
    );
    const out = new Map<string, StepRow[]>();
    for (const r of rows) {
      const list = out.get(r.run_id) ?? [];
      list.push(bodyToStep(r.body));
      out.set(r.run_id, list);
    }
    return out;
  }

  async putStep(runId: string, token: string, step: StepRow): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `WITH owner AS (SELECT id FROM runs WHERE id = $1 AND lease_token = $2 FOR SHARE)
       INSERT INTO run_steps (run_id, id, idx, body, wait_type) SELECT $1, $3, $4, $5, $6 FROM owner
       ON CONFLICT (run_id, id) DO UPDATE SET idx = excluded.idx, body = excluded.body, wait_type = excluded.wait_type`,
      [runId, token, step.id, step.index, JSON.stringify(step), waitType(step)],
    );
    return (rowCount ?? 0) > 0;
  }

  async suspend(runId: string, token: string, s: Suspension): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE runs SET status = $3, lease_token = NULL, updated_at = now_ms(), failures = $5,
         due_at = CASE WHEN woken THEN now_ms() ELSE $4::bigint END, woken = false
       WHERE id = $1 AND lease_token = $2`,
      [runId, token, s.status, s.dueAt ?? null, s.failures ?? 0],
    );
    return (rowCount ?? 0) > 0;
  }

  async finish(runId: string, token: string, outcome: RunOutcome): Promise<boolean> {
    const output = outcome.status === "succeeded" ? (JSON.stringify(outcome.output) ?? null) : null;
    const error = outcome.status === "succeeded" ? null : JSON.stringify(outcome.error);
    return this.#end(
      `UPDATE runs SET status = $3, lease_token = NULL, due_at = NULL, woken = false, updated_at = now_ms(),
         ended_at = now_ms(), output = $4, error = $5 WHERE id = $1 AND lease_token = $2 RETURNING id, event`,
      [runId, token, outcome.status, output, error],
    );
  }

  cancel(runId: string, error: ErrorInfo): Promise<boolean> {
    return this.#end(
      `UPDATE runs SET status = 'cancelled', lease_token = NULL, due_at = NULL, woken = false,
         updated_at = now_ms(), ended_at = now_ms(), error = $2 WHERE id = $1 AND ${ACTIVE} RETURNING id, event`,
      [runId, JSON.stringify(error)],
    );
  }

  async retry(runId: string): Promise<boolean> {
    // One statement: the run is due again, its failed steps forgotten, its pending waits registered again.
    const { rows } = await this.#pool.query<{ n: number }>(
      `WITH r AS (
         UPDATE runs SET status = 'running', lease_token = NULL, due_at = now_ms(), woken = false,
           updated_at = now_ms(), ended_at = NULL, output = NULL, error = NULL, failures = 0
         WHERE id = $1 AND status IN ('failed', 'compensation_failed') RETURNING id),
       forget AS (DELETE FROM run_steps WHERE run_id IN (SELECT id FROM r) AND body::jsonb->>'status' = 'failed'),
       rewait AS (
         UPDATE run_steps SET wait_type = body::jsonb->'wait'->>'type'
         WHERE run_id IN (SELECT id FROM r) AND body::jsonb->>'kind' = 'wait' AND body::jsonb->>'status' = 'pending')
       SELECT count(*)::int AS n FROM r`,
      [runId],
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  /** Ends a run (the UPDATE given), its pending waits, and wakes its parent (a child's), in one statement. */
  async #end(update: string, params: unknown[]): Promise<boolean> {
    const { rows } = await this.#pool.query<{ n: number }>(
      `WITH ended AS (${update}),
         waits AS (UPDATE run_steps SET wait_type = NULL WHERE run_id IN (SELECT id FROM ended) AND wait_type IS NOT NULL),
         parent AS (
           UPDATE runs p SET due_at = CASE WHEN p.lease_token IS NULL THEN now_ms() ELSE p.due_at END,
             woken = (p.lease_token IS NOT NULL)
           FROM ended e WHERE p.id = e.event::jsonb->>'${PARENT_EXTENSION}' AND p.${ACTIVE})
       SELECT count(*)::int AS n FROM ended`,
      params,
    );
    return (rows[0]?.n ?? 0) > 0;
  }

  async wake(runIds: string[]): Promise<void> {
    if (runIds.length === 0) return;
    await this.#pool.query(
      `UPDATE runs SET due_at = CASE WHEN lease_token IS NULL THEN now_ms() ELSE due_at END,
         woken = (lease_token IS NOT NULL) WHERE id = ANY($1::text[]) AND ${ACTIVE}`,
      [runIds],
    );
  }

  async waits(types: string[], limit: number): Promise<PendingWait[]> {
    if (types.length === 0) return [];
    const { rows } = await this.#pool.query<{ run_id: string; body: string }>(
      "SELECT run_id, body FROM run_steps WHERE wait_type = ANY($1::text[]) LIMIT $2",
      [types, limit],
    );
    return rows.map((r) => {
      const step = bodyToStep(r.body);
      return { runId: r.run_id, stepId: step.id, wait: step.wait! };
    });
  }

  async get(runId: string): Promise<{ run: RunRow; steps: StepRow[] } | undefined> {
    const { rows } = await this.#pool.query<RunSqlRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = $1`, [
      runId,
    ]);
    if (!rows[0]) return undefined;
    return { run: rowToRun(rows[0]), steps: (await this.#steps([runId])).get(runId) ?? [] };
  }

  async list(q: RunListQuery): Promise<RunRow[]> {
    const { rows } = await this.#pool.query<RunSqlRow>(
      `SELECT ${RUN_COLUMNS} FROM runs
       WHERE ($1::text IS NULL OR workflow = $1) AND ($2::text IS NULL OR status = $2)
         AND ($3::text IS NULL OR n < (SELECT n FROM runs WHERE id = $3))
       ORDER BY n DESC LIMIT $4`,
      [q.workflow ?? null, q.status ?? null, q.before ?? null, Math.max(0, Math.min(q.limit, MAX_RUN_LIST))],
    );
    return rows.map(rowToRun);
  }

  async nextDueAt(workflow: string): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ at: string | null }>(
      `SELECT min(due_at) AS at FROM runs WHERE workflow = $1 AND due_at IS NOT NULL AND ${ACTIVE}`,
      [workflow],
    );
    const at = rows[0]?.at;
    return at === null || at === undefined ? undefined : Number(at);
  }
}

function newToken(): string {
  return randomBytes(12).toString("base64url");
}
