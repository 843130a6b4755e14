import type { DeliveryCounts } from "./functions.js";

/** What a user may set when creating or updating a queue (`PUT /v1/queues/NAME`; durations as "30s" or ms). */
export interface QueueAttributes {
  visibilityTimeout?: number | string;
  delay?: number | string;
  maxReceiveCount?: number;
  contentBasedDeduplication?: boolean;
}

/** A queue's settings (SQS's attributes, in Eddy's units). */
export interface QueueConfig {
  name: string;
  /** Names ending in `.fifo`: in order per message group, one in flight per group. */
  fifo: boolean;
  /** How long a received message stays invisible to others. Default 30 s. */
  visibilityTimeoutMs: number;
  /** Default delay of new messages. Default 0. */
  delayMs: number;
  /** Redrive policy: a message received this many times goes to the dead-letter queue. Default 10. */
  maxReceiveCount: number;
  /** FIFO only: deduplicate by the SHA-256 of the body when a message has no dedup id. */
  contentBasedDeduplication: boolean;
}

/** A queue as the API shows it: its settings and how many messages it holds. */
export interface QueueView extends QueueConfig {
  messages: DeliveryCounts;
}

/** `GET /v1/queues` answer. */
export interface QueuesResponse {
  queues: QueueView[];
}

/** One message to send. */
export interface OutgoingMessageBody {
  body: unknown;
  /** FIFO queues: the message group (ordered within it). */
  groupId?: string;
  /** Deduplicates for 5 minutes. */
  dedupId?: string;
  /** Holds the message back ("30s" or ms). */
  delay?: string | number;
}

/** `POST /v1/queues/NAME/messages` body: one message, or `{ messages: [...] }`. */
export type SendMessagesRequest = OutgoingMessageBody | { messages: OutgoingMessageBody[] };

/** `POST /v1/queues/NAME/messages` answer (202), one result per message. */
export interface SendMessagesResponse {
  results: { messageId: string; status: string }[];
}

/** `POST /v1/queues/NAME/receive` body. */
export interface ReceiveParams {
  /** 1-100, default 1. */
  max?: number;
  /** Long polling: wait up to this long for a message (at most 20 s). */
  wait?: string | number;
  visibilityTimeout?: string | number;
}

/** A received queue message. */
export interface ReceivedMessageView {
  messageId: string;
  body: unknown;
  /** Give it back to delete the message or change its visibility. */
  receiptHandle: string;
  receiveCount: number;
  groupId?: string;
  sentAt: number;
}

/** `POST /v1/queues/NAME/receive` answer. */
export interface ReceiveResponse {
  messages: ReceivedMessageView[];
}

/** `POST /v1/queues/NAME/messages/RECEIPT/visibility` body. */
export interface ChangeVisibilityRequest {
  timeout?: string | number;
}
