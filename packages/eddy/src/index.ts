/**
 * The Eddy SDK: what function code and producers import. No Node-only or server dependencies, so
 * it is safe to bundle into sandboxes and browsers. Every export is listed in docs/sdk.md (a test
 * checks both ways); helpers shared with the server and the CLI are in `eddy/internal`.
 */
export type * from "./aws.js";
export type { CloudEvent, CloudEventAttributes, EventInput, EventProblem } from "./cloudevents.js";
export { validateCloudEvent } from "./cloudevents.js";
export { EddyClient, EddyRequestError } from "./client.js";
export type { DeadLetterListOptions, EddyClientOptions, QueueOption } from "./client.js";
export type { Duration } from "./duration.js";
export * from "./errors.js";
export { defineBatchFunction, defineFunction } from "./function.js";
export type {
  BackoffPolicy,
  BatchHandler,
  BatchResult,
  EddyFunction,
  FunctionConfig,
  FunctionContext,
  FunctionLogger,
  Handler,
  InvocationInfo,
  RateLimitConfig,
  ResolvedFunctionConfig,
  RetryPolicy,
  SendOptions,
  ThrottleConfig,
} from "./function.js";
export type { HttpContext, HttpFunctionConfig, HttpHandler } from "./http-function.js";
export type { HttpCors, HttpMethod, HttpTrigger, HttpTriggerOptions, JsonSchema } from "./triggers/index.js";
export type * from "./kv.js";
export * from "./patterns/index.js";
export { on } from "./triggers/index.js";
export type {
  EventTrigger,
  QueueTrigger,
  QueueTriggerOptions,
  ScheduleTrigger,
  ScheduleTriggerOptions,
  Trigger,
} from "./triggers/index.js";
export type * from "./wire/index.js";
export { defineWorkflow } from "./workflow.js";
export type {
  InvokeOptions,
  StepRunOptions,
  WaitForEventOptions,
  WorkflowConfig,
  WorkflowHandler,
  WorkflowLimits,
  WorkflowStep,
} from "./workflow.js";
