/** Lambda compatibility inside the sandbox: the EventBridge event shape and the Lambda context. */
import type { AwsHandler, CloudEvent, EventBridgeEvent, InvocationInfo, LambdaContext } from "eddy";

/** The variables every Lambda sees that Eddy can fill before the module's config is known. */
export function regionEnvironment(region: string): Record<string, string> {
  return { AWS_REGION: region, AWS_DEFAULT_REGION: region };
}

/**
 * Lambda's reserved variables of a function, as its Node runtime sets them. The server's own
 * `env` (e.g. an `AWS_REGION` for the AWS SDK) takes precedence over them.
 */
export function lambdaEnvironment(
  config: { name: string; memoryMb: number },
  region: string,
): Record<string, string> {
  return {
    ...regionEnvironment(region),
    AWS_LAMBDA_FUNCTION_NAME: config.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memoryMb),
    AWS_LAMBDA_LOG_GROUP_NAME: logGroup(config.name),
  };
}

const logGroup = (fn: string) => `/eddy/functions/${fn}`;

/** The CloudEvent as EventBridge would hand it to a Lambda target. */
export function toEventBridgeEvent(event: CloudEvent, region: string): EventBridgeEvent {
  return {
    version: "0",
    id: event.id,
    "detail-type": event.type,
    source: event.source,
    account: "000000000000",
    time: event.time ?? new Date().toISOString(),
    region,
    resources: event.subject !== undefined ? [event.subject] : [],
    detail: event.data ?? {},
  };
}

/**
 * Runs a Lambda-style handler on `event` (already in AWS's shape) to its outcome, as Lambda's Node
 * runtime does: an async handler's
 * promise settles it; a handler with three parameters ends by its callback (or `context.done`,
 * `succeed`, `fail`); a synchronous handler with fewer parameters ends when it returns.
 */
export function runAwsHandler(
  handler: AwsHandler<unknown>,
  event: unknown,
  info: InvocationInfo,
  memoryMb: number,
  region: string,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (error?: unknown, result?: unknown) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) reject(error);
      else resolve(result);
    };
    const context: LambdaContext = {
      functionName: info.functionName,
      functionVersion: info.version,
      invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${info.functionName}`,
      memoryLimitInMB: String(memoryMb),
      awsRequestId: info.id,
      logGroupName: logGroup(info.functionName),
      logStreamName: `${info.version}/${info.id}`,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(0, info.deadline - Date.now()),
      done,
      fail: (error: unknown) => done(error ?? new Error("context.fail() called")),
      succeed: (result?: unknown) => done(null, result),
    };
    try {
      const out = handler(event, context, done);
      if (out && typeof (out as Promise<unknown>).then === "function") {
        (out as Promise<unknown>).then(
          (v) => done(null, v),
          (e: unknown) => done(e ?? new Error("the handler rejected with no reason")),
        );
      } else if (handler.length < 3) done(null, out);
    } catch (err) {
      done(err);
    }
  });
}
