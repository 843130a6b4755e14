import type { ProblemItem } from "./problem.js";

/** A bundled module as `eddy deploy` uploads it. */
export interface DeployBundle {
  /** Source file, relative to the app folder, e.g. `functions/send-receipt.ts`. */
  file: string;
  /** The bundle (one ES module). */
  code: string;
}

/** `POST /v1/deploy` body: every bundle of the app. */
export interface DeployRequest {
  functions: DeployBundle[];
}

/** What a deploy or a rollback did to one function. */
export interface DeployChange {
  name: string;
  change: "added" | "updated" | "unchanged" | "removed";
  /** The version running now (undefined once removed). */
  version?: string;
  /** The version that ran before (undefined when added). */
  previous?: string;
}

/** `POST /v1/deploy` answer. */
export interface DeployResponse {
  functions: DeployChange[];
  /** Deployed, but looks like a mistake (a pattern key no event has): per file. */
  warnings?: ProblemItem[];
}

/** `POST /v1/functions/NAME/rollback` body: the version to run; absent, the one before. */
export interface RollbackRequest {
  version?: string;
}
