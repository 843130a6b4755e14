/**
 * Durable workflows: a function whose handler also gets `step`. Each step's result is journaled
 * by the server before the handler continues, so a crash, a sleep or a wait resumes the handler by
 * replaying it: finished steps return their journaled result without running again.
 */
import type { CloudEvent, EventInput } from "./cloudevents.js";
import type { Duration } from "./duration.js";
import { InvalidFunctionConfigError } from "./errors.js";
import type { EddyFunction, FunctionConfig, FunctionContext, RetryPolicy } from "./function.js";
import { defineWorkflowFunction } from "./function.js";

/** Limits of one run; each exceeded one fails the run with an error that names it. */
export interface WorkflowLimits {
  /** Largest JSON result of one step, in bytes. Default 4 MiB. */
  stepResultBytes?: number;
  /** Steps in one run. Default 10,000. */
  steps?: number;
  /** All the journaled results of one run together, in bytes. Default 64 MiB. */
  stateBytes?: number;
}

/** How a user configures a workflow: a function's configuration, and its limits. */
export interface WorkflowConfig extends FunctionConfig {
  limits?: WorkflowLimits;
}

/** Options of {@link WorkflowStep.run}. */
export interface StepRunOptions<T = unknown> {
  /** This step's retries; default the workflow's `retries` (`maxEventAge` does not apply to steps). */
  retries?: Omit<RetryPolicy, "maxEventAge">;
  /**
   * Undoes the step (a saga): when the run fails for good, the compensations of its finished
   * steps run in reverse order, each once (journaled like a step, retried by this step's policy),
   * with the step's result. The run then ends `compensated`, or `compensation_failed` when one
   * of them failed for good (the later ones do not run).
   */
  compensate?: (result: T) => unknown;
}

/** Options of {@link WorkflowStep.waitForEvent}. */
export interface WaitForEventOptions {
  /** The awaited event's type. */
  type: string;
  /**
   * A path such as "data.orderId": the awaited event's value there must equal the run's trigger
   * event's value at the same path.
   */
  match?: string;
  /** A CEL expression over `event` (the trigger event) and `async` (the candidate), true to accept. */
  if?: string;
  /** How long to wait; then the step resolves with `null`. */
  timeout: Duration;
}

/** Options of {@link WorkflowStep.invoke}. */
export interface InvokeOptions {
  /** The workflow to run as the child, by name. */
  function: string;
  /** The child run's input: its trigger event's `data` (JSON). */
  data?: unknown;
  /**
   * How long to wait for the child; then it is cancelled and the step throws
   * `InvokeTimeoutError`. Default: as long as the child runs.
   */
  timeout?: Duration;
}

/**
 * The steps a workflow handler may take. Every step has an `id`, unique within the run: a loop
 * makes it unique (`charge-${i}`). A run that calls the same id twice, or whose replay asks for a
 * different step than the journal holds at that point (the code changed under a run in flight),
 * fails with an error naming both steps.
 */
export interface WorkflowStep {
  /**
   * Runs `fn` once: its result (JSON) is journaled and returned, without running `fn` again, on
   * every replay. A throw is retried by the step's policy (`NonRetriableError` ends it at once,
   * `RetryAfterError` sets the delay); after the last attempt the step throws the error.
   */
  run<T>(id: string, fn: () => T | Promise<T>, options?: StepRunOptions<Awaited<T>>): Promise<Awaited<T>>;
  /** A durable timer: the run holds no sandbox while it sleeps. */
  sleep(id: string, duration: Duration): Promise<void>;
  /** Sleeps until a time (a Date, epoch ms or an RFC 3339 string). */
  sleepUntil(id: string, until: Date | number | string): Promise<void>;
  /**
   * Resolves with the first event in log order that matches, or `null` at the timeout. Events
   * that arrived after the run started, before the wait was reached, count: no wait is lost.
   */
  waitForEvent<T = unknown>(id: string, options: WaitForEventOptions): Promise<CloudEvent<T> | null>;
  /** Publishes events exactly once per run; resolves with their ids. */
  sendEvent(id: string, events: EventInput | EventInput[]): Promise<{ ids: string[] }>;
  /**
   * Starts a run of another workflow (a child: `options.function`) once per run, and waits for it, holding no sandbox:
   * resolves with the child's output. Throws `InvokedRunFailedError` when the child ended
   * otherwise (failed, cancelled, compensated), `InvokeTimeoutError` at the timeout (the child is
   * cancelled), `InvokedWorkflowNotFoundError` when no workflow of that name is deployed.
   * Cancelling the parent cancels the child; retrying the parent retries a failed child.
   */
  invoke<T = unknown>(id: string, options: InvokeOptions): Promise<T>;
}

/** A workflow's code: its return value (JSON) is the run's output; a throw fails the run. */
export type WorkflowHandler<TData = unknown, TResult = unknown> = (
  event: CloudEvent<TData>,
  step: WorkflowStep,
  ctx: FunctionContext,
) => TResult | Promise<TResult>;

/**
 * Defines a workflow: the configuration and triggers of a function (events, queues, schedules),
 * one run per trigger delivery, and a handler that takes steps.
 *
 * @example
 * export default defineWorkflow(
 *   { name: "checkout", triggers: [on.event({ type: ["order.placed"] })] },
 *   async (event, step) => {
 *     const charge = await step.run("charge", () => pay(event.data));
 *     await step.sleep("cool-off", "1h");
 *     const shipped = await step.waitForEvent("shipped", { type: "order.shipped", match: "data.orderId", timeout: "7d" });
 *     return { charge, shipped: shipped !== null };
 *   },
 * );
 */
export function defineWorkflow<TData = unknown, TResult = unknown>(
  config: WorkflowConfig,
  handler: WorkflowHandler<TData, TResult>,
): EddyFunction<TData> {
  if (typeof handler !== "function") {
    throw new InvalidFunctionConfigError("handler", `must be a function, got ${typeof handler}`);
  }
  const { limits, ...rest } = config;
  return defineWorkflowFunction(rest, limits ?? {}, handler as WorkflowHandler);
}
