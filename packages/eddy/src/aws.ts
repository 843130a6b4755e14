/**
 * Types of Lambda-style handlers (`compat: "aws"`): an Eddy event reaches them in Amazon
 * EventBridge's shape, with a context like Lambda's, so that an existing handler runs unchanged.
 *
 * The module declares its triggers with a `config` export beside the handler:
 *
 * @example
 * import type { EventBridgeEvent, LambdaContext } from "eddy";
 * import { on } from "eddy";
 *
 * export const config = { compat: "aws", triggers: [on.event({ type: ["order.paid"] })] };
 * export const handler = async (event: EventBridgeEvent<"order.paid", { id: string }>, context: LambdaContext) => {
 *   console.log(event.detail.id, context.awsRequestId);
 * };
 */

/**
 * An event as EventBridge delivers it to a Lambda target. From the CloudEvent: `id`, `source`,
 * `type` → `detail-type`, `time`, `data` → `detail`, `subject` → `resources[0]`.
 */
export interface EventBridgeEvent<TDetailType extends string = string, TDetail = unknown> {
  version: "0";
  id: string;
  "detail-type": TDetailType;
  source: string;
  /** Always "000000000000": there is no AWS account. */
  account: string;
  time: string;
  /** The server's region setting, "local" by default. */
  region: string;
  resources: string[];
  detail: TDetail;
}

/** What a Lambda handler gets as its second argument, filled from the Eddy invocation. */
export interface LambdaContext {
  functionName: string;
  /** The deployed bundle's content hash. */
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  /** The invocation id: unique per attempt. */
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  /** Kept for compatibility; Eddy always ends the attempt when the handler settles. */
  callbackWaitsForEmptyEventLoop: boolean;
  /** Milliseconds left before the attempt times out. */
  getRemainingTimeInMillis(): number;
  /** Legacy Lambda API: ends the attempt with an error or success. */
  done(error?: unknown, result?: unknown): void;
  fail(error: unknown): void;
  succeed(result?: unknown): void;
}

/** A Lambda callback: `callback(error)` fails the attempt, `callback(null, result)` ends it. */
export type LambdaCallback = (error?: unknown, result?: unknown) => void;

/** A Lambda-style handler: async (returns a promise) or callback-style (three parameters). */
export type AwsHandler<TEvent = EventBridgeEvent, TResult = unknown> = (
  event: TEvent,
  context: LambdaContext,
  callback: LambdaCallback,
) => void | Promise<TResult>;

/**
 * An HTTP request as API Gateway's HTTP API (payload format 2.0) hands it to a Lambda: what a
 * `compat: "aws"` function bound to `on.http` gets.
 */
export interface ApiGatewayProxyEventV2 {
  version: "2.0";
  /** The route as API Gateway writes it: `GET /orders/{id}`. */
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  /** Lower-case names; repeated headers joined with commas. */
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  pathParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** What such a handler returns: a full response, or any JSON value (sent as a 200 JSON body). */
export type ApiGatewayProxyResultV2 =
  | {
      statusCode: number;
      headers?: Record<string, string | number | boolean>;
      multiValueHeaders?: Record<string, (string | number | boolean)[]>;
      cookies?: string[];
      body?: string;
      isBase64Encoded?: boolean;
    }
  | unknown;
