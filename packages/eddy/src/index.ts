/**
 * The Eddy SDK: what function code and producers import. No Node-only or server dependencies, so
 * it is safe to bundle into sandboxes and browsers.
 */
export * from "./aws.js";
export * from "./cloudevents.js";
export * from "./client.js";
export * from "./duration.js";
export * from "./errors.js";
export * from "./function.js";
export * from "./ids.js";
export type { HttpContext, HttpFunctionConfig, HttpHandler } from "./http-function.js";
export * from "./http-trigger.js";
export * from "./kv.js";
export * from "./patterns/index.js";
export { checkResolvedConfig } from "./resolved-config.js";
export * from "./triggers.js";
