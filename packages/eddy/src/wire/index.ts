/**
 * The HTTP API's request and response bodies, one module per resource: the server's routes answer
 * with these types and {@link EddyClient} returns them, so the two cannot drift apart. Types only
 * (nothing here exists at run time).
 */
export type * from "./deliveries.js";
export type * from "./deploy.js";
export type * from "./dlq.js";
export type * from "./events.js";
export type * from "./functions.js";
export type * from "./graph.js";
export type * from "./health.js";
export type * from "./invocations.js";
export type * from "./keys.js";
export type * from "./logs.js";
export type * from "./patterns.js";
export type * from "./problem.js";
export type * from "./queues.js";
export type * from "./routes.js";
export type * from "./runs.js";
export type * from "./runtime.js";
export type * from "./traces.js";
export type * from "./usage.js";
