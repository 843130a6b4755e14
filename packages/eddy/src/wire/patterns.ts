import type { EventPattern } from "../patterns/index.js";

/** `POST /v1/patterns/test` body: try a pattern on an event without deploying it. */
export interface PatternTestRequest {
  pattern: EventPattern;
  event: unknown;
}

/** `POST /v1/patterns/test` answer. */
export interface PatternTestResponse {
  matches: boolean;
}
