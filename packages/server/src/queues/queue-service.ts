import type { ReceivedMessageView } from "eddy";
import { createHash } from "node:crypto";
import type { CloudEvent } from "eddy";
import { uuidv7 } from "eddy/internal";
import type { AppendEntry, Backend, LeasedDelivery } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import { queueConsumer, receiptHandle } from "../dispatch/delivery-plan.js";
import { MAX_JSON_DEPTH, measureJson } from "../events/nesting.js";
import { queueSource } from "../events/sources.js";
import { kvEntries } from "../backends/kv-entries.js";
import type { QueueSend } from "../runtime/protocol.js";
import type { QueueAttributes, QueueConfig } from "./queue-config.js";
import { resolveQueueConfig } from "./queue-config.js";
import { InvalidMessageError, InvalidReceiptError, QueueNotFoundError } from "../errors/http.js";
import { errorInfo, MaxReceiveCountError } from "../errors/attempt.js";

/** A message as a queue consumer receives it. */
export type ReceivedMessage = ReceivedMessageView;

/** A message to send. */
export interface OutgoingMessage {
  body: unknown;
  groupId?: string;
  dedupId?: string;
  delayMs?: number;
}

/** The registry: one key per queue, its name, holding its config. */
const REGISTRY_NS = "eddy:queues";
/** Where releases before 0.2 kept every queue in one document; moved to the registry at first use. */
const LEGACY = { ns: "eddy", key: "queues" };
const FIFO_DEDUP_WINDOW_MS = 5 * 60_000;
const MESSAGE_TYPE = "eddy.queue.message";
// Queues defined or changed through another cluster node are seen after at most this long (and a
// queue this node does not know is looked up at once).
const REGISTRY_TTL_MS = 2_000;

/**
 * SQS-like queues on the backend primitives: a message is stored in the log as a CloudEvent
 * (`type: eddy.queue.message`, `data`: the body) with one delivery to the consumer key
 * `queue:<name>`; receive = lease (the visibility timeout is the lease), delete = ack, change
 * visibility = move the lease end. FIFO queues lease in order, one in flight per message group,
 * and deduplicate by dedup id for 5 minutes. A message received `maxReceiveCount` times is
 * dead-lettered instead of handed out again (the redrive policy).
 */
export class QueueService {
  readonly #backend: Backend;
  readonly #append: (entries: AppendEntry[]) => Promise<{ status: string }[]>;
  #configs: Record<string, QueueConfig> | undefined;
  /** When `#configs` was read: other cluster nodes may change the registry meanwhile. */
  #readAt = 0;
  #legacyMoved: Promise<void> | undefined;
  readonly #waiters = new Map<string, Set<() => void>>();
  #stopping = false;
  readonly #clock: Clock;

  constructor(
    backend: Backend,
    append: (entries: AppendEntry[]) => Promise<{ status: string }[]>,
    clock: Clock,
  ) {
    this.#backend = backend;
    this.#append = append;
    this.#clock = clock;
  }

  /** Creates a queue, or updates its attributes. */
  async define(name: string, attrs: QueueAttributes = {}): Promise<QueueConfig> {
    const config = resolveQueueConfig(name, attrs);
    await this.#moveLegacy();
    await this.#backend.kv.set(REGISTRY_NS, name, config);
    if (this.#configs) this.#configs[name] = config;
    return config;
  }

  /** Creates a queue with default attributes unless it exists (functions' on.queue triggers). */
  async ensure(name: string): Promise<QueueConfig> {
    return (await this.get(name)) ?? this.define(name);
  }

  async get(name: string): Promise<QueueConfig | undefined> {
    return (await this.#all())[name];
  }

  async list(): Promise<QueueConfig[]> {
    return Object.values(await this.#all()).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Deletes a queue and its messages (including dead letters). */
  async remove(name: string): Promise<boolean> {
    await this.#moveLegacy();
    if (!(await this.#backend.kv.delete(REGISTRY_NS, name))) return false;
    if (this.#configs) delete this.#configs[name];
    await this.purgeMessages(name);
    return true;
  }

  /** Drops every message of a queue, visible or not, and its dead letters. */
  async purgeMessages(name: string): Promise<number> {
    const consumer = queueConsumer(name);
    let n = await this.#backend.deadLetters.purge(consumer, {});
    for (;;) {
      const batch = await this.#backend.queue.lease(consumer, 500, 60_000);
      if (batch.length === 0) return n;
      for (const d of batch) await this.#backend.queue.settle(d, { kind: "ack" }, { dedupWindowMs: 0 });
      n += batch.length;
    }
  }

  /** Sends messages; resolves after they are durable. A duplicate (FIFO dedup id) is reported, not stored again. */
  async send(name: string, messages: OutgoingMessage[]): Promise<{ messageId: string; status: string }[]> {
    const config = await this.#require(name);
    const entries = messages.map((m, i) => this.#entry(config, m, `messages[${i}]`));
    const results = await this.#append(entries);
    return results.map((r, i) => ({ messageId: entries[i]!.event.id, status: r.status }));
  }

  /** Turns `ctx.send` calls into log entries, to be appended with the attempt's ack. */
  async prepareSends(sends: QueueSend[]): Promise<AppendEntry[]> {
    const out: AppendEntry[] = [];
    for (const [i, s] of sends.entries()) {
      const config = await this.#require(s.queue);
      const m: OutgoingMessage = { body: s.body };
      if (s.groupId !== undefined) m.groupId = s.groupId;
      if (s.dedupId !== undefined) m.dedupId = s.dedupId;
      if (s.delayMs !== undefined) m.delayMs = s.delayMs;
      const entry = this.#entry(config, m, `ctx.send #${i + 1}`);
      out.push(entry);
    }
    return out;
  }

  /**
   * Receives up to `max` messages, waiting up to `waitMs` for one to arrive (long polling).
   * Each stays invisible for `visibilityMs` (default: the queue's) unless deleted.
   */
  async receive(
    name: string,
    options: { max?: number; visibilityMs?: number; waitMs?: number } = {},
  ): Promise<ReceivedMessage[]> {
    const config = await this.#require(name);
    const consumer = queueConsumer(name);
    const deadline = this.#clock.now() + (options.waitMs ?? 0);
    for (;;) {
      const leased = await this.#backend.queue.lease(
        consumer,
        options.max ?? 1,
        options.visibilityMs ?? config.visibilityTimeoutMs,
        config.fifo ? { ordered: true } : {},
      );
      const live = await this.enforceRedrive(consumer, leased);
      if (live.length > 0 || this.#clock.now() >= deadline || this.#stopping) return live.map(toMessage);
      await this.#wait(consumer, deadline);
    }
  }

  /** Deletes a received message. False when the receipt is stale (the message was received again). */
  async delete(name: string, receiptHandle: string): Promise<boolean> {
    await this.#require(name);
    const r = await this.#backend.queue.settle(
      parseReceipt(receiptHandle, name),
      { kind: "ack" },
      { dedupWindowMs: 0 },
    );
    return r.settled;
  }

  /** Makes a received message visible again after `timeoutMs` (0: now). */
  async changeVisibility(name: string, receiptHandle: string, timeoutMs: number): Promise<boolean> {
    await this.#require(name);
    return this.#backend.queue.extend(parseReceipt(receiptHandle, name), this.#clock.now() + timeoutMs);
  }

  /**
   * The redrive policy, applied to every lease of a queue (receive and function consumers): a
   * message past `maxReceiveCount` goes to the dead-letter queue instead of to the consumer.
   */
  async enforceRedrive(consumer: string, leased: LeasedDelivery[]): Promise<LeasedDelivery[]> {
    if (!consumer.startsWith("queue:") || leased.length === 0) return leased;
    const config = await this.get(consumer.slice("queue:".length));
    if (!config) return leased;
    const live: LeasedDelivery[] = [];
    for (const d of leased) {
      if (d.attempt <= config.maxReceiveCount) live.push(d);
      else {
        const error = errorInfo(new MaxReceiveCountError(d.attempt - 1, config.maxReceiveCount));
        await this.#backend.queue.settle(d, { kind: "dead", error }, { dedupWindowMs: 0 });
      }
    }
    return live;
  }

  /** Ends every long poll now (shutdown): waiting receivers answer with what they have. */
  stop(): void {
    this.#stopping = true;
    for (const set of this.#waiters.values()) for (const w of set) w();
  }

  /** Wakes long-polling receivers of these consumers (new deliveries were committed). */
  notify(consumers: Iterable<string>): void {
    for (const c of consumers) for (const w of this.#waiters.get(c) ?? []) w();
  }

  #wait(consumer: string, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.#waiters.get(consumer) ?? new Set();
      this.#waiters.set(consumer, set);
      const done = () => {
        this.#clock.clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      // Also wake for messages that become visible by time (delays, visibility timeouts).
      const timer = this.#clock.setTimeout(done, Math.max(0, Math.min(deadline - this.#clock.now(), 250)));
      set.add(done);
    });
  }

  #entry(config: QueueConfig, m: OutgoingMessage, path: string): AppendEntry {
    // Without recursion, before anything serializes it: a body nested thousands deep would throw there.
    if (measureJson(m.body, { maxDepth: MAX_JSON_DEPTH, maxSize: Infinity })) {
      throw new InvalidMessageError(
        `${path ? `${path}.body` : "body"} nests objects and arrays deeper than the limit of ${MAX_JSON_DEPTH} levels; flatten it`,
      );
    }
    if (config.fifo && (typeof m.groupId !== "string" || m.groupId === "")) {
      throw new InvalidMessageError(`${path}: a message to the FIFO queue ${config.name} needs a groupId`);
    }
    if (!config.fifo && m.dedupId !== undefined) {
      throw new InvalidMessageError(
        `${path}: dedupId is for FIFO queues; ${config.name} is a standard queue`,
      );
    }
    const id = uuidv7();
    const event: CloudEvent = {
      specversion: "1.0",
      id,
      source: queueSource(config.name),
      type: MESSAGE_TYPE,
      time: new Date(this.#clock.now()).toISOString(),
      data: m.body ?? null,
    };
    if (m.groupId !== undefined) event.groupid = m.groupId;
    let dedup: string = id;
    if (m.dedupId !== undefined) dedup = `d:${m.dedupId}`;
    else if (config.contentBasedDeduplication) {
      dedup =
        "c:" +
        createHash("sha256")
          .update(JSON.stringify(m.body ?? null))
          .digest("hex");
    }
    const delayMs = m.delayMs ?? config.delayMs;
    return {
      event,
      dedupKey: `queue:${config.name}\u0000${dedup}`,
      dedupWindowMs: FIFO_DEDUP_WINDOW_MS,
      deliveries: [
        {
          fn: queueConsumer(config.name),
          ...(delayMs > 0 ? { dueAt: this.#clock.now() + delayMs } : {}),
          ...(m.groupId !== undefined ? { groupKey: m.groupId } : {}),
        },
      ],
    };
  }

  async #require(name: string): Promise<QueueConfig> {
    let config = await this.get(name);
    if (!config && this.#clock.now() - this.#readAt > 50) {
      this.#configs = undefined; // created through another node since this one last looked?
      config = await this.get(name);
    }
    if (!config) {
      throw new QueueNotFoundError(
        `no queue named ${JSON.stringify(name)}: create it with PUT /v1/queues/${name} or an on.queue("${name}") trigger`,
      );
    }
    return config;
  }

  async #all(): Promise<Record<string, QueueConfig>> {
    if (!this.#configs || this.#clock.now() - this.#readAt > REGISTRY_TTL_MS) {
      await this.#moveLegacy();
      const configs: Record<string, QueueConfig> = {};
      for await (const e of kvEntries(this.#backend.kv, REGISTRY_NS)) configs[e.key] = e.value as QueueConfig;
      this.#configs = configs;
      this.#readAt = this.#clock.now();
    }
    return this.#configs;
  }

  /**
   * Moves queues of the one-document registry of earlier releases to their own keys, once per
   * process: without overwriting a key another node wrote meanwhile, then dropping the document
   * only if nobody changed it. Several nodes doing it at once end in the same state.
   */
  #moveLegacy(): Promise<void> {
    this.#legacyMoved ??= (async () => {
      const kv = this.#backend.kv;
      const old = await kv.get(LEGACY.ns, LEGACY.key);
      if (!old) return;
      for (const [name, config] of Object.entries(old.value as Record<string, QueueConfig>)) {
        await kv.set(REGISTRY_NS, name, config, { ifVersion: 0 });
      }
      await kv.delete(LEGACY.ns, LEGACY.key, { ifVersion: old.version });
    })().catch((err: unknown) => {
      this.#legacyMoved = undefined; // try again next time
      throw err;
    });
    return this.#legacyMoved;
  }
}

function toMessage(d: LeasedDelivery): ReceivedMessage {
  const m: ReceivedMessage = {
    messageId: d.event.id,
    body: d.event.data,
    receiptHandle: receiptHandle(d),
    receiveCount: d.attempt,
    sentAt: d.createdAt,
  };
  if (typeof d.event.groupid === "string") m.groupId = d.event.groupid;
  return m;
}

function parseReceipt(handle: string, queue: string): LeasedDelivery {
  const i = typeof handle === "string" ? handle.indexOf("~") : -1;
  if (i <= 0)
    throw new InvalidReceiptError(`not a receipt handle of queue ${queue}: ${JSON.stringify(handle)}`);
  // settle/extend only look at the id and the lease token.
  return { id: handle.slice(0, i), leaseToken: handle.slice(i + 1) } as LeasedDelivery;
}
