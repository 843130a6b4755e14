import type { Problem } from "./problem.js";

/** Outcome of one event of a send (`POST /v1/events`). */
export interface SendResult {
  /** Position in the batch. */
  index: number;
  id?: string;
  source?: string;
  /**
   * "accepted": durably stored now; "duplicate": the same source+id was already accepted within the
   * dedup window (nothing new stored, nothing runs twice); "rejected": not stored, see `problem`.
   */
  status: "accepted" | "duplicate" | "rejected";
  /**
   * Accepted events: how many functions it was routed to (their triggers match it); 0 means
   * nothing runs it. Duplicates: 0 (nothing new was routed).
   */
  routed?: number;
  problem?: Problem;
}

/**
 * `POST /v1/events` answer: 202 when every event was accepted, 207 when some were refused (a
 * refused batch as a whole is a problem document that carries `results` too).
 */
export interface SendResponse {
  accepted: number;
  rejected: number;
  results: SendResult[];
}
