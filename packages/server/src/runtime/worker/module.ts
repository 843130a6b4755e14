/** Importing a function's bundle and finding out what kind of module it is. */
import { pathToFileURL } from "node:url";
import type {
  AwsHandler,
  BatchHandler,
  CloudEvent,
  FunctionContext,
  Handler,
  ResolvedFunctionConfig,
  WorkflowHandler,
  WorkflowStep,
} from "eddy";
import { InvalidFunctionConfigError } from "eddy";
import { isEddyFunction, resolveFunctionConfig } from "eddy/internal";
import type { HttpRequestData, HttpResponseData, LoadRequest, QueueMessageInfo } from "../protocol.js";
import { functionName } from "../protocol.js";
import { lambdaEnvironment, regionEnvironment, runAwsHandler, toEventBridgeEvent } from "./aws.js";
import { fromApiGatewayResult, toApiGatewayEvent } from "./aws-http.js";
import { sqsFailures, toSqsEvent } from "./aws-sqs.js";
import { stackMapper } from "./stack.js";
import { BatchItemFailedError } from "../../errors/attempt.js";

/** A loaded function: its configuration and how to run one attempt of it. */
export interface LoadedModule {
  config: ResolvedFunctionConfig;
  /**
   * Runs one attempt; a batch function gets `batch`, an HTTP function a `Request` instead of the
   * event. Resolves the handler's return value.
   */
  run(
    event: CloudEvent | Request,
    ctx: FunctionContext,
    batch?: CloudEvent[],
    messages?: QueueMessageInfo[],
  ): Promise<unknown>;
  /** Maps a stack's frames to the user's sources, where Node does not (bundles loaded from code). */
  mapStack: (stack: string) => string;
  /**
   * Runs an HTTP request to its response data, for modules whose handler does not take a
   * `Request` (Lambda-style handlers get API Gateway's event). Absent: `run` with a `Request`.
   */
  runHttp?: (request: HttpRequestData, ctx: FunctionContext) => Promise<HttpResponseData>;
  /** A workflow's handler, which also takes `step` (see worker/workflow.ts). */
  runWorkflow?: (event: CloudEvent, step: WorkflowStep, ctx: FunctionContext) => Promise<unknown>;
}

/**
 * Imports the bundle (from its file in a thread, from its code in a process, which may not read
 * files) and accepts two shapes: `export default defineFunction(config, handler)`, or a
 * Lambda-style `export const handler` with `export const config = { compat: "aws", ... }`.
 */
export async function loadModule(req: LoadRequest): Promise<LoadedModule> {
  const url =
    req.source !== undefined
      ? // Named by its file in stack traces, instead of a data: URL the size of the bundle.
        `data:text/javascript;base64,${Buffer.from(`${req.source}\n//# sourceURL=${req.file}`).toString("base64")}`
      : pathToFileURL(req.bundlePath!).href;
  // Whether this is a Lambda-style module, which reads its configuration from process.env (at
  // module scope too), is only known once imported: its env is there during the import, and stays
  // only for compat "aws" modules (see below).
  const region = req.region ?? "local";
  setProcessEnv({ ...regionEnvironment(region), ...req.env });
  const mod = (await import(url)) as { default?: unknown; handler?: unknown; config?: unknown };
  setProcessEnv({});
  const mapStack = req.source !== undefined ? stackMapper(req.source, req.file) : (stack: string) => stack;
  if (isEddyFunction(mod.default)) {
    const fn = mod.default;
    if (fn.config.compat === "aws") {
      throw new InvalidFunctionConfigError(
        "compat",
        '"aws" is for modules that export handler(event, context) and config; a defineFunction ' +
          "handler takes (event, ctx): remove compat, or export the Lambda-style handler instead",
      );
    }
    if (fn.config.workflow) {
      const handler = fn.handler as WorkflowHandler;
      return {
        config: fn.config,
        run: () => Promise.reject(new Error("a workflow runs as a run of its journal, with step")),
        runWorkflow: async (event, step, ctx) => handler(event, step, ctx),
        mapStack,
      };
    }
    return {
      config: fn.config,
      run: async (event, ctx, batch) =>
        batch ? (fn.handler as BatchHandler)(batch, ctx) : (fn.handler as Handler)(event as CloudEvent, ctx),
      mapStack,
    };
  }
  if (typeof mod.handler === "function") {
    if (mod.config === undefined) {
      throw new InvalidFunctionConfigError(
        "",
        'a Lambda-style module (export const handler) must also export config = { compat: "aws", triggers: [...] }',
      );
    }
    const config = resolveFunctionConfig(mod.config as Parameters<typeof resolveFunctionConfig>[0]);
    if (config.batch && config.triggers[0]?.kind !== "queue") {
      throw new InvalidFunctionConfigError(
        "config.batch",
        'a compat "aws" handler takes one event at a time, or SQS batches from on.queue(name, { batchSize }); remove batch',
      );
    }
    if (config.compat !== "aws") {
      throw new InvalidFunctionConfigError(
        "",
        `config.compat must be "aws" for a module that exports handler(event, context); got ${JSON.stringify(config.compat)}`,
      );
    }
    const handler = mod.handler as AwsHandler<unknown>;
    const lambda = { name: functionName(req.file, config), memoryMb: config.memoryMb };
    setProcessEnv({ ...lambdaEnvironment(lambda, region), ...req.env });
    const queue = config.triggers[0]?.kind === "queue" ? config.triggers[0].queue : undefined;
    return {
      config,
      run: async (event, ctx, batch, messages) => {
        if (queue === undefined) {
          const e = toEventBridgeEvent(event as CloudEvent, region);
          return runAwsHandler(handler, e, ctx.invocation, config.memoryMb, region);
        }
        const sqs = toSqsEvent(batch ?? [event as CloudEvent], messages ?? [], queue, region);
        const failed = sqsFailures(
          await runAwsHandler(handler, sqs, ctx.invocation, config.memoryMb, region),
          sqs,
        );
        if (batch) return { batchItemFailures: failed.map((id) => ({ itemIdentifier: id })) };
        if (failed.length > 0) {
          throw new BatchItemFailedError();
        }
        return undefined;
      },
      runHttp: async (request, ctx) =>
        fromApiGatewayResult(
          await runAwsHandler(handler, toApiGatewayEvent(request), ctx.invocation, config.memoryMb, region),
        ),
      mapStack,
    };
  }
  throw new Error(
    'the default export must be defineFunction(config, handler) from "eddy" (or, with compat "aws", ' +
      "export handler and config); got " +
      (mod.default === undefined ? "no default export" : typeof mod.default),
  );
}

/** Replaces the sandbox's `process.env` (its own: a thread's copy, or the process's). */
function setProcessEnv(values: Record<string, string>): void {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, values);
}
