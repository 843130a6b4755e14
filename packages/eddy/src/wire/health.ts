/** `GET /healthz` answer: the process is up and serving. */
export interface HealthResponse {
  status: "ok";
  backend: string;
  functions: number;
}

/**
 * `GET /readyz` answer when ready (otherwise 503 `EDDY_NOT_READY`, a problem document with the same
 * `checks` and the `loadFailures`).
 */
export interface ReadyResponse {
  status: "ready";
  backend: string;
  /** Per check ("backend", "functions", the backpressure checks): "ok" or what is wrong. */
  checks: Record<string, string>;
}
