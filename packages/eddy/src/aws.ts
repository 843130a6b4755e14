/**
 * Types of Lambda-style handlers (`compat: "aws"`): an Eddy event reaches them in Amazon
 * EventBridge's shape (a queue message in SQS's, an HTTP request in API Gateway's), with a context
 * like Lambda's and `process.env` set, so that an existing handler runs unchanged.
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

/**
 * Queue messages as SQS hands them to a Lambda: what a `compat: "aws"` function bound to
 * `on.queue` gets, one record per message (several with `on.queue(name, { batchSize })`).
 */
export interface SQSEvent {
  Records: SQSRecord[];
}

/** One message of an {@link SQSEvent}. */
export interface SQSRecord {
  /** The message id (the CloudEvent `id`): what `batchItemFailures` names. */
  messageId: string;
  /** Give it to `DELETE /v1/queues/NAME/messages/RECEIPT` or its visibility call, as with SQS. */
  receiptHandle: string;
  /** The body as text: a string as sent, anything else as its JSON. */
  body: string;
  attributes: {
    ApproximateReceiveCount: string;
    /** When the message was sent, epoch ms. */
    SentTimestamp: string;
    /** Always "000000000000": there is no AWS account. */
    SenderId: string;
    /** When this receive started (Eddy does not keep the first one's time). */
    ApproximateFirstReceiveTimestamp: string;
    /** FIFO queues: the message group, and the message's place in the log. */
    MessageGroupId?: string;
    SequenceNumber?: string;
  };
  /** Eddy messages have no message attributes: always `{}`. */
  messageAttributes: Record<string, never>;
  /** The MD5 of `body`, hex, as SQS computes it. */
  md5OfBody: string;
  eventSource: "aws:sqs";
  /** `arn:aws:sqs:REGION:000000000000:QUEUE`. */
  eventSourceARN: string;
  awsRegion: string;
}

/**
 * What an SQS handler may return: the messages that failed. Only those are retried, the others
 * are done; an empty or missing list is success, and an item that names no message of the batch
 * fails the whole batch, as with Lambda.
 */
export interface SQSBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
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
