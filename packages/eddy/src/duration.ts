/** A duration as users write it: milliseconds as a number, or a string such as "250ms", "30s", "10m", "1h", "1d". */
export type Duration = number | `${number}${"ms" | "s" | "m" | "h" | "d"}`;

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;

/**
 * Parses a {@link Duration} into milliseconds.
 *
 * @param what names the option in the error message, e.g. `retries.backoff.initial`.
 * @example
 * parseDuration("1.5s", "timeout"); // 1500
 */
export function parseDuration(value: unknown, what: string): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new RangeError(`${what} must be a duration >= 0 (ms or "30s"), got ${value}`);
  }
  if (typeof value === "string") {
    const m = PATTERN.exec(value.trim());
    if (m) return Math.round(Number(m[1]) * UNITS[m[2]!]!);
  }
  throw new RangeError(
    `${what} must be a duration: a number of ms or a string like "250ms", "30s", "10m", "1h", "1d"; got ${JSON.stringify(value)}`,
  );
}
