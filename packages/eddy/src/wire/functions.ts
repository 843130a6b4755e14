import type { ResolvedFunctionConfig } from "../function.js";
import type { Trigger } from "../triggers/index.js";

/** Deliveries of one consumer (a function, or a queue's messages). */
export interface DeliveryCounts {
  ready: number;
  leased: number;
  dead: number;
}

/** Cold starts of a function: counted and timed (ms). */
export interface ColdStartStats {
  count: number;
  /** Of the last cold start: waiting for a sandbox + loading the module. */
  lastMs: number | undefined;
  meanMs: number | undefined;
  /** Mean time to get a sandbox (about 0 with a pre-started blank one). */
  meanSandboxMs: number | undefined;
  /** Mean time to import and evaluate the module inside the sandbox. */
  meanInitMs: number | undefined;
  /** Cold starts that found no pre-started sandbox and had to start one. */
  withoutPrewarm: number;
}

/** A function's sandboxes. */
export interface PoolView {
  kind: "thread" | "process";
  warm: number;
  busy: number;
  starting: number;
  min: number;
  max: number;
  coldStarts: ColdStartStats;
}

/** A deployed function: `GET /v1/functions`. */
export interface FunctionInfo {
  name: string;
  /** Source file, relative to the app folder. */
  file: string;
  version: string;
  description?: string;
  triggers: Trigger[];
  retries: ResolvedFunctionConfig["retries"];
  timeoutMs: number;
  memoryMb: number;
  concurrency: ResolvedFunctionConfig["concurrency"];
  isolation: "thread" | "process";
  compat?: "aws";
  emits: string[];
  sends: string[];
  pool: PoolView;
  inFlight: number;
  deliveries: DeliveryCounts;
}

/** One deployed version of a function. */
export interface FunctionVersion {
  version: string;
  file: string;
  deployedAt: number;
  /** The app folder (start, `eddy dev` reload), `eddy deploy`, or `eddy rollback`. */
  via: "folder" | "api" | "rollback";
  running: boolean;
}

/** `GET /v1/functions/NAME`: a function with its versions, newest first. */
export interface FunctionDetail extends FunctionInfo {
  versions: FunctionVersion[];
}

/** `GET /v1/functions` answer. */
export interface FunctionsResponse {
  functions: FunctionInfo[];
}
