import type { Duration } from "../duration.js";
import { parseDuration } from "../duration.js";
import { InvalidFunctionConfigError } from "../errors.js";
import type { TriggerKind } from "./kind.js";

/** Consumes a queue: each message goes to one consumer (point-to-point, SQS-like). */
export interface QueueTrigger {
  kind: "queue";
  queue: string;
  /** Messages per invocation (the handler then gets an array). Default 1. */
  batchSize?: number;
  /** How long to wait for a batch to fill, ms. Default 0 (whatever is there). */
  batchWindowMs?: number;
}

/** Options of {@link on.queue}. */
export interface QueueTriggerOptions {
  batchSize?: number;
  batchWindow?: Duration;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$/;

/** `on.queue`: a consumer of a queue. A `batchSize` makes the function a batch function. */
export const queue = {
  kind: "queue",
  /**
   * Consumes a queue. Names ending in `.fifo` are FIFO queues (in order per message group).
   *
   * @example
   * on.queue("thumbnails", { batchSize: 10, batchWindow: "1s" })
   */
  on(name: string, options: QueueTriggerOptions = {}): QueueTrigger {
    checkQueueName(name, "queue");
    const t: QueueTrigger = { kind: "queue", queue: name };
    if (options.batchSize !== undefined) {
      if (!Number.isInteger(options.batchSize) || options.batchSize < 1 || options.batchSize > 10_000) {
        throw new InvalidFunctionConfigError(
          "queue.batchSize",
          `must be an integer from 1 to 10000, got ${JSON.stringify(options.batchSize)}`,
        );
      }
      t.batchSize = options.batchSize;
    }
    if (options.batchWindow !== undefined)
      t.batchWindowMs = parseDuration(options.batchWindow, "queue.batchWindow");
    return t;
  },
  rebuild: (t): QueueTrigger =>
    queue.on(t.queue as string, {
      batchSize: t.batchSize as number | undefined,
      batchWindow: t.batchWindowMs as number | undefined,
    }),
  resolve(config, triggers, out) {
    const batched = triggers.find((t) => t.batchSize !== undefined);
    if (!batched) return;
    if (config.batch !== undefined) {
      throw new InvalidFunctionConfigError("batch", "give batch or on.queue(name, { batchSize }), not both");
    }
    out.batch = { maxSize: batched.batchSize!, timeoutMs: batched.batchWindowMs ?? 0 };
  },
  derived: (triggers) => (triggers.some((t) => t.batchSize !== undefined) ? ["batch"] : []),
} satisfies TriggerKind<QueueTrigger>;

/** Throws unless `name` is a valid queue name (SQS's rules: 1-80 characters of A-Z a-z 0-9 _ -, optional .fifo). */
export function checkQueueName(name: unknown, path: string): asserts name is string {
  if (typeof name !== "string" || !QUEUE_NAME.test(name)) {
    throw new InvalidFunctionConfigError(
      path,
      `queue names are 1-80 characters of letters, digits, "_" and "-", ending in ".fifo" for FIFO queues; got ${JSON.stringify(name)}`,
    );
  }
}
