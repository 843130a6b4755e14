import type { CloudEvent } from "../cloudevents.js";
import type { ErrorView } from "./problem.js";

/**
 * Which dead letters an action applies to (`POST /v1/dlq/functions|queues/NAME/redrive|purge`):
 * every given field must match; an empty selection must say `all: true`.
 */
export interface DeadLetterSelection {
  ids?: string[];
  eventType?: string;
  errorName?: string;
  /** Epoch ms or ISO 8601. */
  deadAfter?: number | string;
  deadBefore?: number | string;
  all?: boolean;
}

/** A dead letter as the API shows it. */
export interface DeadLetterView {
  id: string;
  fn: string;
  event: CloudEvent;
  attempts: number;
  redrives: number;
  createdAt: number;
  deadAt: number;
  error: ErrorView;
}

/** One attempt in a dead letter's history. */
export interface DeadLetterAttempt {
  attempt: number;
  status: string;
  startedAt: number;
  error?: { name: string; message: string };
}

/** `GET /v1/dlq/functions|queues/NAME/ID`: a dead letter with the record of every attempt. */
export interface DeadLetterDetail extends DeadLetterView {
  /** The invocation record of every attempt, oldest first. */
  history: DeadLetterAttempt[];
}

/** Parameters of `GET /v1/dlq/functions|queues/NAME`. */
export interface DeadLettersParams {
  /** 1-1000, default 50. */
  limit?: number;
  /** The `next` of the previous page. */
  after?: string;
  eventType?: string;
  errorName?: string;
}

/** `GET /v1/dlq/functions|queues/NAME` answer, oldest first. */
export interface DeadLettersResponse {
  deadLetters: DeadLetterView[];
  /** Give it as `after` for the next page; absent on the last one. */
  next?: string;
}

/** `GET /v1/dlq`: how many dead letters each function and each queue holds (only those with any). */
export interface DeadLetterCounts {
  functions: Record<string, number>;
  queues: Record<string, number>;
}

/** `POST …/redrive` answer. */
export interface RedriveResponse {
  redriven: number;
}

/** `POST …/purge` answer (dead letters, or with `/v1/queues/NAME/purge` a queue's messages). */
export interface PurgeResponse {
  purged: number;
}
