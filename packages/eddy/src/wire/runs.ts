import type { CloudEvent } from "../cloudevents.js";
import type { ErrorView } from "./problem.js";

/** Where a workflow run is. */
export type RunStatusView =
  | "running"
  | "sleeping"
  | "waiting"
  | "succeeded"
  | "failed"
  | "cancelled"
  /** It failed, and the compensations of its finished steps all ran (`error`: why it failed). */
  | "compensated"
  /** It failed, and a compensation failed too (`error`: that compensation's). */
  | "compensation_failed";

/** One step of a run, as `GET /v1/runs/ID` shows it. */
export interface RunStepView {
  id: string;
  /** `compensate`: the compensation of the `run` step `compensates`; `invoke`: a child run. */
  kind: "run" | "sleep" | "wait" | "send" | "compensate" | "invoke";
  /** "pending": sleeping, waiting, or a step waiting for its next attempt. */
  status: "pending" | "done" | "failed";
  /** Epoch ms. */
  startedAt: number;
  endedAt?: number;
  attempts: number;
  /** Bytes of the step's journaled JSON result. */
  resultBytes: number;
  /** The step's result (absent when it returned nothing). */
  result?: unknown;
  /** The last attempt's error. */
  error?: ErrorView;
  /** A pending step is due then: the end of a sleep, the next attempt, a wait's timeout. */
  wakeAt?: number;
  /** A compensate step's `run` step. */
  compensates?: string;
  /** A wait step's awaited event type. */
  waitFor?: string;
  /** An invoke step's child run (its id). */
  invoked?: string;
}

/** A run in a list: `GET /v1/runs`. */
export interface RunSummary {
  id: string;
  workflow: string;
  version: string;
  status: RunStatusView;
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  /** When it is due next, while it sleeps or waits with a timeout. */
  dueAt?: number;
}

/** One run with its trigger, steps and outcome: `GET /v1/runs/ID`. */
export interface RunView extends RunSummary {
  event: CloudEvent;
  steps: RunStepView[];
  /** The handler's return value (succeeded). */
  output?: unknown;
  error?: ErrorView;
}

/** `GET /v1/runs`: newest first; `next` is the `before` of the next page. */
export interface RunsResponse {
  runs: RunSummary[];
  next?: string;
}

/** Parameters of `GET /v1/runs`. */
export interface RunsParams {
  workflow?: string;
  status?: RunStatusView;
  /** 1-1000, default 50. */
  limit?: number;
  /** Runs created before this run id (the `next` of the previous page). */
  before?: string;
}

/** Body of `POST /v1/workflows/NAME/runs`. */
export interface StartRunRequest {
  /** The trigger event's `data`. */
  data?: unknown;
  /** The trigger event's id: a second start with the same id within the dedup window starts no second run. */
  id?: string;
}

/** `POST /v1/workflows/NAME/runs` (202), `POST /v1/runs/ID/cancel` and `POST /v1/runs/ID/retry`. */
export interface StartRunResponse {
  id: string;
  status: RunStatusView;
  /** Where to follow it: `/v1/runs/ID`. */
  statusUrl: string;
}
