import { parseDuration } from "eddy/internal";
import { InvalidRequestError } from "../errors/http.js";

/**
 * Reads a point in time as users write it: a duration ago ("15m", "24h", "7d"), an ISO 8601
 * date, or epoch milliseconds; "ago" counts back from `now` (the server's clock). Undefined when it
 * is none of these.
 */
export function parseTime(value: string, now: number): number | undefined {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value.trim())) return now - parseDuration(value, "time");
  if (/^\d{10,}$/.test(value)) return Number(value);
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}

/**
 * A duration parameter of a request ("30s", "1m", milliseconds); one that is not throws
 * {@link InvalidRequestError} (400) naming `path`.
 */
export function durationParam(value: unknown, path: string): number {
  try {
    return parseDuration(value, path);
  } catch (err) {
    throw new InvalidRequestError((err as Error).message, { cause: err });
  }
}
