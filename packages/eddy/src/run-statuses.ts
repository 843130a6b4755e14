import type { RunStatusView } from "./wire/runs.js";

/**
 * Every status a workflow run can have, in the order a run meets them: the server checks the
 * `status` filter of `GET /v1/runs` against it and `eddy runs ls --status` checks its option.
 */
export const RUN_STATUSES: readonly RunStatusView[] = [
  "running",
  "sleeping",
  "waiting",
  "succeeded",
  "failed",
  "cancelled",
  "compensated",
  "compensation_failed",
];
