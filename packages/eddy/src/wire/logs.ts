import type { LogLine } from "./invocations.js";

/** A function's log line with where it came from: `GET /v1/logs` (and each SSE `data:` of `follow`). */
export interface FunctionLogLine extends LogLine {
  fn: string;
  invocationId: string;
  attempt: number;
}

/** Parameters of `GET /v1/logs`. */
export interface LogsParams {
  function?: string;
  /** The least level shown. */
  level?: LogLine["level"];
  /** "15m" (ago), an ISO 8601 date, or epoch ms. */
  since?: string;
  /** 1-10000, default 200. */
  limit?: number;
  /** "true" streams new lines as Server-Sent Events after the backlog. */
  follow?: "true" | "1";
}

/** `GET /v1/logs` answer (without `follow`), oldest first. */
export interface LogsResponse {
  lines: FunctionLogLine[];
}
