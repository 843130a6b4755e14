import type { RunRow, RunStatus, StepRow } from "./primitives/journal.js";

/**
 * A workflow run as a SQL row (snake_case columns, JSON text): the shape both the embedded
 * (SQLite) and the cluster (PostgreSQL) journals store. PostgreSQL's bigints arrive as strings.
 */
export interface RunSqlRow {
  id: string;
  workflow: string;
  version: string;
  status: RunStatus;
  event: string;
  event_seq: number | string;
  created_at: number | string;
  updated_at: number | string;
  ended_at: number | string | null;
  output: string | null;
  error: string | null;
  due_at: number | string | null;
  lease_token: string | null;
  failures: number;
}

/** The columns {@link rowToRun} reads, for SELECTs. */
export const RUN_COLUMNS =
  "id, workflow, version, status, event, event_seq, created_at, updated_at, ended_at, output, error, due_at, lease_token, failures";

/** Reads a {@link RunSqlRow} back into the run the engine and the API use. */
export function rowToRun(r: RunSqlRow): RunRow {
  const run: RunRow = {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    event: JSON.parse(r.event) as RunRow["event"],
    eventSeq: Number(r.event_seq),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    failures: Number(r.failures),
  };
  if (r.ended_at !== null) run.endedAt = Number(r.ended_at);
  if (r.output !== null) run.output = JSON.parse(r.output) as unknown;
  if (r.error !== null) run.error = JSON.parse(r.error) as RunRow["error"];
  // A leased run's due_at is its lease's end, not a due time of the run.
  if (r.due_at !== null && r.lease_token === null) run.dueAt = Number(r.due_at);
  return run;
}

/** A step's stored JSON, read back. */
export function bodyToStep(body: string): StepRow {
  return JSON.parse(body) as StepRow;
}

/** The index column of pending waits: the awaited type while the wait is pending, else NULL. */
export function waitType(step: StepRow): string | null {
  return step.kind === "wait" && step.status === "pending" && step.wait ? step.wait.type : null;
}
