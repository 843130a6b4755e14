import type { ResolvedFunctionConfig } from "eddy";

/**
 * Delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed:
 * `min(max, initial * factor^(attempt-1))`, then jitter ("full": uniform in [0, d] as AWS
 * recommends, spreading retries of a burst; "equal": [d/2, d]; "none": d).
 *
 * @example
 * backoffMs({ initialMs: 1000, factor: 2, maxMs: 60_000, jitter: "none" }, 3); // 4000
 */
export function backoffMs(
  policy: ResolvedFunctionConfig["retries"]["backoff"],
  attempt: number,
  random: () => number = Math.random,
): number {
  const exp = policy.initialMs * Math.pow(policy.factor, Math.max(0, attempt - 1));
  const d = Math.min(policy.maxMs, exp);
  if (policy.jitter === "full") return Math.round(random() * d);
  if (policy.jitter === "equal") return Math.round(d / 2 + random() * (d / 2));
  return Math.round(d);
}
