/** Lambda compatibility for queues: SQS's event shape and its partial batch responses. */
import { createHash } from "node:crypto";
import type { CloudEvent, SQSEvent, SQSRecord } from "eddy";
import type { QueueMessageInfo } from "../protocol.js";
import { InvalidResultError } from "../../errors/attempt.js";

/** The messages as SQS would hand them to a Lambda consuming `queue`. */
export function toSqsEvent(
  events: CloudEvent[],
  messages: QueueMessageInfo[],
  queue: string,
  region: string,
): SQSEvent {
  const now = String(Date.now());
  return {
    Records: events.map((event, i): SQSRecord => {
      const m = messages[i];
      const body = typeof event.data === "string" ? event.data : JSON.stringify(event.data ?? null);
      const attributes: SQSRecord["attributes"] = {
        ApproximateReceiveCount: String(m?.receiveCount ?? 1),
        SentTimestamp: String(m?.sentAt ?? now),
        SenderId: "000000000000",
        ApproximateFirstReceiveTimestamp: now,
      };
      if (typeof event.groupid === "string") {
        attributes.MessageGroupId = event.groupid;
        if (m) attributes.SequenceNumber = String(m.sequence);
      }
      return {
        messageId: event.id,
        receiptHandle: m?.receiptHandle ?? "",
        body,
        attributes,
        messageAttributes: {},
        md5OfBody: createHash("md5").update(body, "utf8").digest("hex"),
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${region}:000000000000:${queue}`,
        awsRegion: region,
      };
    }),
  };
}

/**
 * The message ids a handler's `{ batchItemFailures: [{ itemIdentifier }] }` names, read as Lambda
 * reads it: no list (or an empty one) is success; an identifier that is not a message id of this
 * batch fails the whole batch, so it throws.
 */
export function sqsFailures(out: unknown, event: SQSEvent): string[] {
  const list = (out as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list))
    throw new InvalidResultError("batchItemFailures must be a list; the whole batch failed");
  const ids = new Set(event.Records.map((r) => r.messageId));
  return list.map((f: unknown, i) => {
    const id = (f as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== "string" || !ids.has(id)) {
      throw new InvalidResultError(
        `batchItemFailures[${i}].itemIdentifier ${JSON.stringify(id) ?? "undefined"} is not the messageId of a record of this batch; the whole batch failed`,
      );
    }
    return id;
  });
}
