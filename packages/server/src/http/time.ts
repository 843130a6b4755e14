import { parseDuration } from "eddy/internal";

/**
 * Reads a point in time as users write it: a duration ago ("15m", "24h", "7d"), an ISO 8601
 * date, or epoch milliseconds. Undefined when it is none of these.
 */
export function parseTime(value: string, now = Date.now()): number | undefined {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value.trim())) return now - parseDuration(value, "time");
  if (/^\d{10,}$/.test(value)) return Number(value);
  const t = Date.parse(value);
  return Number.isFinite(t) ? t : undefined;
}
