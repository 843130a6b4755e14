/**
 * The workflow journal: runs of durable workflows and the steps each has taken. A run is a row,
 * leased by one process at a time with a fencing token while it executes; a run that sleeps or
 * waits holds no lease, only its rows and a due time. Contract: contract/journal.ts.
 */
import type { CloudEvent, RunStatusView } from "eddy";
import type { ErrorInfo } from "./records.js";

/**
 * Where a run is. `running`: due or executing now (or due again after a retry's delay);
 * `sleeping`/`waiting`: suspended until a time or an event; the others are final.
 */
export type RunStatus = RunStatusView;

/** A run to start. */
export interface NewRun {
  /** Deterministic from its trigger delivery (`<event seq>.<workflow>`), so a repeated delivery starts no second run. */
  id: string;
  workflow: string;
  /** The bundle version it started on. */
  version: string;
  /** The trigger event. */
  event: CloudEvent;
  /** The trigger event's position in the log: waits look back from here. */
  eventSeq: number;
}

/** A run as stored. */
export interface RunRow extends NewRun {
  status: RunStatus;
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  /** The handler's return value (succeeded). */
  output?: unknown;
  /** Why it failed or was cancelled. */
  error?: ErrorInfo;
  /** When it is due next (sleeping, waiting with a timeout, retrying): absent while leased or ended. */
  dueAt?: number;
  /** Executions in a row that ended without an outcome (timeout, crash). */
  failures: number;
}

/** What a pending wait is waiting for. */
export interface WaitSpec {
  type: string;
  /** The path compared (`data.orderId`) and the trigger event's value there (JSON). */
  matchPath?: string;
  matchValue?: unknown;
  /** CEL over `event` (the trigger) and `async` (the candidate). */
  if?: string;
  /** When the wait gives up (resolves null). */
  timeoutAt: number;
  /** Log position after which the lookback continues: events up to here were looked at. */
  cursor: number;
}

/** One step of a run. A step is written whole each time it changes (an upsert by `runId` + `id`). */
export interface StepRow {
  id: string;
  /** The order in which the handler called its steps (0, 1, …): replays must call them the same way. */
  index: number;
  /**
   * `compensate`: the compensation of the `run` step {@link StepRow.compensates} (a saga);
   * `invoke`: a child run, {@link StepRow.invoked}, which wakes this run when it ends.
   */
  kind: "run" | "sleep" | "wait" | "send" | "compensate" | "invoke";
  compensates?: string;
  /** An invoke step's child run. */
  invoked?: string;
  /** `pending`: sleeping, waiting, or a `run` step waiting for its next attempt at `wakeAt`. */
  status: "pending" | "done" | "failed";
  /** JSON result (done); `null` for a wait that timed out. */
  result?: unknown;
  /** Bytes of the result's JSON. */
  resultBytes: number;
  /** The last attempt's error (failed, or pending before a retry). */
  error?: ErrorInfo;
  attempts: number;
  startedAt: number;
  endedAt?: number;
  /** A pending step is due at this time (end of a sleep, next attempt, a wait's timeout). */
  wakeAt?: number;
  /** A pending `wait` step's spec: the index of waits ingest looks up. */
  wait?: WaitSpec;
}

/** A run leased for one execution, with its journal. */
export interface LeasedRun {
  run: RunRow;
  steps: StepRow[];
  /** Fences every write of this execution: a write with a stale token is refused. */
  token: string;
}

/** How an execution ends without finishing the run. */
export interface Suspension {
  status: "running" | "sleeping" | "waiting";
  /** When to run again; absent: only a wake (an event) resumes it. */
  dueAt?: number;
  /** Executions in a row that ended without an outcome (kept on the run). */
  failures?: number;
}

/** How a run finished. */
export type RunOutcome =
  | { status: "succeeded"; output?: unknown }
  | { status: "failed"; error: ErrorInfo }
  | { status: "cancelled"; error: ErrorInfo }
  | { status: "compensated"; error: ErrorInfo }
  | { status: "compensation_failed"; error: ErrorInfo };

/** A page of runs, newest first. */
export interface RunListQuery {
  workflow?: string;
  status?: RunStatus;
  /** Runs created before this run (its id; the last of the previous page). */
  before?: string;
  limit: number;
}

/** A wait that ingest may resolve: the run and step, and what it waits for. */
export interface PendingWait {
  runId: string;
  stepId: string;
  wait: WaitSpec;
}

/** The extension of a child run's trigger event that names its parent run (`step.invoke`). */
export const PARENT_EXTENSION = "eddyparentrun";

/** The statuses of a run that {@link Journal.retry} resumes. */
export const RETRYABLE_RUN_STATUSES: readonly RunStatus[] = ["failed", "compensation_failed"];

/** Largest page {@link Journal.list} returns. */
export const MAX_RUN_LIST = 1_000;

/** The workflow journal. Contract: contract/journal.ts. */
export interface Journal {
  /**
   * Starts a run, idempotently by id: a second create of the same id changes nothing and resolves
   * `created: false`. With `leaseMs`, a new run is leased to the caller at once (no lease round
   * trip before its first execution); otherwise it is due now. Durable when it resolves.
   */
  create(run: NewRun, leaseMs?: number): Promise<{ created: boolean; leased?: LeasedRun }>;
  /**
   * Leases up to `limit` due runs of `workflow` (status running, sleeping or waiting with `dueAt`
   * passed, or woken, or whose lease ended) for `leaseMs`, oldest due first, each with its steps
   * and a new token. Durable when it resolves.
   */
  lease(workflow: string, limit: number, leaseMs: number): Promise<LeasedRun[]>;
  /**
   * Writes one step of a leased run (insert or replace by step id). Resolves false, writing
   * nothing, when `token` is not the run's current lease (it expired and moved on, or the run was
   * cancelled). Durable when it resolves true: a crash after it never runs that step again.
   */
  putStep(runId: string, token: string, step: StepRow): Promise<boolean>;
  /**
   * Ends an execution without finishing the run: releases the lease, sets the status and the due
   * time. If the run was woken while leased ({@link wake}), it is due at once instead, so an
   * event that arrived during the execution is not lost. False on a stale token.
   */
  suspend(runId: string, token: string, suspension: Suspension): Promise<boolean>;
  /**
   * Finishes a leased run: its status, output or error; releases the lease. False on a stale token.
   * A run whose trigger event names a parent run ({@link PARENT_EXTENSION}: a child started by
   * `step.invoke`) wakes that parent in the same write, as {@link cancel} does: no crash can leave
   * a parent waiting for a child that ended.
   */
  finish(runId: string, token: string, outcome: RunOutcome): Promise<boolean>;
  /**
   * Cancels a run that has not finished, leased or not (its lease becomes stale). Resolves false
   * when there is no such run or it had finished.
   */
  cancel(runId: string, error: ErrorInfo): Promise<boolean>;
  /**
   * Resumes a run that ended `failed` or `compensation_failed`: its failed steps are forgotten
   * (they run again), its finished ones kept, its pending waits registered again, and it is due
   * now with no error and no failures counted. Resolves false when there is no such run or it
   * ended otherwise (or has not ended).
   */
  retry(runId: string): Promise<boolean>;
  /**
   * Wakes runs (an event they may wait for arrived): a suspended one becomes due now, a leased one
   * is marked so that its suspension makes it due now. Finished runs are left alone.
   */
  wake(runIds: string[]): Promise<void>;
  /** The pending waits for events of these types (at most `limit`). */
  waits(types: string[], limit: number): Promise<PendingWait[]>;
  get(runId: string): Promise<{ run: RunRow; steps: StepRow[] } | undefined>;
  /** Runs newest first (by creation, then id), capped at {@link MAX_RUN_LIST}. */
  list(query: RunListQuery): Promise<RunRow[]>;
  /** When the next run of `workflow` is due (a suspension's due time or a lease's end); undefined: none. */
  nextDueAt(workflow: string): Promise<number | undefined>;
}
