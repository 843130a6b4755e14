import type { QueueAttributes, QueueConfig } from "eddy";
import { checkQueueName, parseDuration } from "eddy/internal";
import { InvalidQueueError } from "../errors/http.js";

/** A queue's settings, and what a user may set (the API's types: see eddy's wire/queues.ts). */
export type { QueueAttributes, QueueConfig };

/** The bad attribute of a queue definition, with what is expected; `errors[0].path` names it. */
function invalid(path: string, message: string): InvalidQueueError {
  const text = `${path}: ${message}`;
  return new InvalidQueueError(text, { errors: [{ path, message: text }] });
}

/**
 * Validates a queue definition and fills in the defaults.
 *
 * @example
 * resolveQueueConfig("orders.fifo", { visibilityTimeout: "1m" }).fifo // true
 */
export function resolveQueueConfig(name: string, attrs: QueueAttributes = {}): QueueConfig {
  try {
    checkQueueName(name, "name");
  } catch (err) {
    throw invalid("name", (err as Error).message.replace(/^name: /, ""));
  }
  const fifo = name.endsWith(".fifo");
  const maxReceiveCount = attrs.maxReceiveCount ?? 10;
  if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
    throw invalid(
      "maxReceiveCount",
      `must be an integer from 1 to 1000, got ${JSON.stringify(maxReceiveCount)}`,
    );
  }
  if (attrs.contentBasedDeduplication && !fifo) {
    throw invalid("contentBasedDeduplication", "is for FIFO queues (names ending in .fifo)");
  }
  return {
    name,
    fifo,
    visibilityTimeoutMs: duration(attrs.visibilityTimeout ?? "30s", "visibilityTimeout", 0, 12 * 3_600_000),
    delayMs: duration(attrs.delay ?? 0, "delay", 0, 15 * 60_000),
    maxReceiveCount,
    contentBasedDeduplication: attrs.contentBasedDeduplication ?? false,
  };
}

function duration(value: unknown, path: string, min: number, max: number): number {
  let ms: number;
  try {
    ms = parseDuration(value, path);
  } catch (err) {
    throw invalid(path, (err as Error).message.replace(`${path} `, ""));
  }
  if (ms < min || ms > max) throw invalid(path, `must be from ${min} to ${max} ms, got ${ms}`);
  return ms;
}
