import type { Duration } from "./duration.js";
import { parseDuration } from "./duration.js";
import { InvalidFunctionConfigError } from "./errors.js";
import type { HttpTrigger, HttpTriggerOptions } from "./http-trigger.js";
import { httpTrigger } from "./http-trigger.js";
import type { EventPattern } from "./patterns/index.js";
import { validatePattern } from "./patterns/index.js";

/** Runs the function for every event on the bus that matches `pattern` (EventBridge syntax). */
export interface EventTrigger {
  kind: "event";
  pattern: EventPattern;
}

/** Consumes a queue: each message goes to one consumer (point-to-point, SQS-like). */
export interface QueueTrigger {
  kind: "queue";
  queue: string;
  /** Messages per invocation (the handler then gets an array). Default 1. */
  batchSize?: number;
  /** How long to wait for a batch to fill, ms. Default 0 (whatever is there). */
  batchWindowMs?: number;
}

/** Runs on a cron schedule; every tick is a CloudEvent `eddy.schedule.tick` on the bus. */
export interface ScheduleTrigger {
  kind: "schedule";
  cron: string;
  /** IANA time zone of the cron expression. Default UTC. */
  tz?: string;
  /** Ticks missed while Eddy was down: "skip" them (default), or "runOnce" for the latest. */
  missed?: "skip" | "runOnce";
}

/** Everything a function can be bound to. */
export type Trigger = EventTrigger | QueueTrigger | ScheduleTrigger | HttpTrigger;

/** Options of {@link on.queue}. */
export interface QueueTriggerOptions {
  batchSize?: number;
  batchWindow?: Duration;
}

/** Options of {@link on.schedule}. */
export interface ScheduleTriggerOptions {
  tz?: string;
  missed?: "skip" | "runOnce";
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}(\.fifo)?$/;

/**
 * Trigger constructors.
 *
 * @example
 * on.event({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } })
 */
export const on = {
  /**
   * Binds a function to the event bus: it runs once for every event that matches `pattern`.
   * The pattern is checked here, so a typo fails when the function is loaded, not silently later.
   *
   * @example
   * on.event({ type: ["order.placed"], source: [{ prefix: "/shop" }] })
   */
  event(pattern: EventPattern): EventTrigger {
    validatePattern(pattern);
    return { kind: "event", pattern };
  },

  /**
   * Consumes a queue. Names ending in `.fifo` are FIFO queues (in order per message group).
   *
   * @example
   * on.queue("thumbnails", { batchSize: 10, batchWindow: "1s" })
   */
  queue(name: string, options: QueueTriggerOptions = {}): QueueTrigger {
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

  /**
   * Runs on a cron schedule (5 or 6 fields, croner syntax), once per tick across restarts and nodes.
   *
   * @example
   * on.schedule("0 3 * * *", { tz: "Europe/Paris" })
   */
  schedule(cron: string, options: ScheduleTriggerOptions = {}): ScheduleTrigger {
    if (typeof cron !== "string" || cron.trim().split(/\s+/).length < 5) {
      throw new InvalidFunctionConfigError(
        "schedule.cron",
        `must be a cron expression with 5 or 6 fields such as "*/5 * * * *", got ${JSON.stringify(cron)}`,
      );
    }
    if (options.missed !== undefined && options.missed !== "skip" && options.missed !== "runOnce") {
      throw new InvalidFunctionConfigError(
        "schedule.missed",
        `must be "skip" or "runOnce", got ${JSON.stringify(options.missed)}`,
      );
    }
    const t: ScheduleTrigger = { kind: "schedule", cron: cron.trim() };
    if (options.tz !== undefined) t.tz = options.tz;
    if (options.missed !== undefined) t.missed = options.missed;
    return t;
  },

  /**
   * Binds a function to an HTTP route of the API gateway. The handler gets a web-standard
   * `Request` (path parameters in `ctx.params`) and returns a `Response` or a plain value (sent as
   * JSON). Routes are private (a key or token is needed) unless `public: true`. In `mode: "async"`
   * the caller gets 202 and `Location: /v1/invocations/ID` at once, and the function runs as a
   * durable delivery, retried as its `retries` say.
   *
   * @example
   * on.http("GET /orders/:id", { cache: { ttl: "30s" } })
   * on.http("POST /reports", { mode: "async", schema: { body: { type: "object", required: ["month"] } } })
   */
  http(route: string, options: HttpTriggerOptions = {}): HttpTrigger {
    return httpTrigger(route, options);
  },
};

/** Throws unless `name` is a valid queue name (SQS's rules: 1-80 characters of A-Z a-z 0-9 _ -, optional .fifo). */
export function checkQueueName(name: unknown, path: string): asserts name is string {
  if (typeof name !== "string" || !QUEUE_NAME.test(name)) {
    throw new InvalidFunctionConfigError(
      path,
      `queue names are 1-80 characters of letters, digits, "_" and "-", ending in ".fifo" for FIFO queues; got ${JSON.stringify(name)}`,
    );
  }
}
