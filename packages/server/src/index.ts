/**
 * @eddy/server: the engine, the runtime, the HTTP API and the embedded backend.
 */
export type * from "./backends/types.js";
export {
  MAX_KV_BATCH,
  MAX_KV_LIST,
  MAX_RESULT_BYTES,
  MAX_RUN_LIST,
  PARENT_EXTENSION,
} from "./backends/types.js";
export { openEmbeddedBackend } from "./backends/embedded/index.js";
export type { EmbeddedOptions } from "./backends/embedded/index.js";
export { Engine } from "./engine.js";
export type { EngineOptions, FunctionView } from "./engine.js";
export { startEddy, DEFAULTS } from "./start.js";
export type { EddyOptions, RunningEddy } from "./start.js";
export { CONNECTION_LIMITS } from "./http/connections.js";
export type { ConnectionLimits } from "./http/connections.js";
export { loadFunctions, listFunctionFiles } from "./functions/loader.js";
export { watchFunctions } from "./functions/watcher.js";
export type { ReloadReport, WatchOptions } from "./functions/watcher.js";
export type { LoadedFunction, LoadFailure } from "./functions/loader.js";
export { BlankPool } from "./runtime/blank-pool.js";
export type { BlankPoolOptions, BlankPoolState, TakenSandbox } from "./runtime/blank-pool.js";
export type { SandboxKind } from "./runtime/channel.js";
export type { ProcessSandboxMode } from "./runtime/process-jail.js";
export { Sandbox } from "./runtime/sandbox.js";
export { SandboxPool } from "./runtime/pool.js";
export type { PoolOptions, PoolState, ColdStartStats } from "./runtime/pool.js";
export { bundleFunctions, bundleFileName, versionOf } from "./runtime/bundler.js";
export { Deployer } from "./deploy/deployer.js";
export type { DeployChange, UploadedBundle } from "./deploy/deployer.js";
export type { DeployedVersion } from "./deploy/state.js";
export { requireScope, apiAuthHook, API_SCOPES } from "./http/auth.js";
export type { AuthMode } from "./http/auth.js";
export { credentials, MIN_ADMIN_KEY_LENGTH } from "./auth/authenticator.js";
export type { Authenticator } from "./auth/authenticator.js";
export { KeyStore } from "./auth/keys.js";
export type { ApiKeyView } from "./auth/keys.js";
export { jwtVerifier } from "./auth/jwt.js";
export type { JwtOptions } from "./auth/jwt.js";
export { SCOPES, hasScope } from "./auth/scopes.js";
export type { Principal } from "./auth/scopes.js";
export type { Bundle, BundleFailure } from "./runtime/bundler.js";
export { PatternIndex } from "./router/pattern-index.js";
export { Router } from "./router/router.js";
export { backoffMs } from "./dispatch/retry-policy.js";
export { decodeEvents } from "./events/http-binding.js";
export { PROBLEM_CODES, problem, problemOf } from "./http/problem.js";
export type { ProblemDocument } from "./http/problem.js";
export * from "./errors/http.js";
export { createLogger } from "./observability/logger.js";
export { withTraceparent } from "./observability/trace-context.js";
export type { Logger } from "./observability/logger.js";
export * from "./errors/attempt.js";
export * from "./errors/start.js";
export { rowToInvocation } from "./backends/invocation-row.js";
export { checkKvBatch } from "./backends/kv-batch.js";
export { bodyToStep, RUN_COLUMNS, rowToRun, waitType } from "./backends/run-row.js";
export type { RunSqlRow } from "./backends/run-row.js";
export type { InvocationRow } from "./backends/invocation-row.js";
export { realClock } from "./clock/clock.js";
export type { Clock, ClockTimer } from "./clock/clock.js";
