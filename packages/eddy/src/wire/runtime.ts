/** Pre-started blank sandboxes of one kind and heap size. */
export interface BlankSandboxView {
  kind: "thread" | "process";
  memoryMb: number;
  ready: number;
  starting: number;
  target: number;
  taken: number;
  /** Takes that found none ready and had to start one. */
  missed: number;
}

/** `GET /v1/runtime` answer. */
export interface RuntimeResponse {
  blankSandboxes: BlankSandboxView[];
}
