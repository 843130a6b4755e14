import type { ConsumerInfo, JetStreamManager, StreamConfig } from "@nats-io/jetstream";
import { AckPolicy, DeliverPolicy, DiscardPolicy, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { ResolvedClusterOptions } from "./options.js";
import { fnToken, workSubject } from "./options.js";

/** JetStream's "not found" API error codes. */
const STREAM_NOT_FOUND = 10059;
const CONSUMER_NOT_FOUND = 10014;

/**
 * How long JetStream remembers message ids. The log's window covers a producer retrying after a
 * node crashed between the log write and the dedup record; the work stream's is longer, so that
 * re-publishing the deliveries of an event found in the log's window is always deduplicated too.
 */
export const LOG_DUPLICATE_WINDOW_MS = 2 * 60_000;
const WORK_DUPLICATE_WINDOW_MS = 10 * 60_000;
// Leases and waiting retries are both "ack pending" in JetStream; the default cap (1000) would
// stop delivery while many retries wait.
const MAX_ACK_PENDING = 1_000_000;

/**
 * Creates the two streams if they do not exist: the event log (kept by limits) and the work
 * queue (one subject per function, a message removed once acked). Safe when nodes start at once.
 */
export async function ensureStreams(jsm: JetStreamManager, o: ResolvedClusterOptions): Promise<void> {
  const common = { storage: StorageType.File, num_replicas: o.replicas, discard: DiscardPolicy.Old };
  await ensureStream(jsm, {
    ...common,
    name: o.logStream,
    subjects: [o.logSubject],
    retention: RetentionPolicy.Limits,
    max_age: nanos(o.logMaxAgeMs),
    duplicate_window: nanos(LOG_DUPLICATE_WINDOW_MS),
  });
  await ensureStream(jsm, {
    ...common,
    name: o.workStream,
    subjects: [`${o.prefix}.work.*`],
    retention: RetentionPolicy.Workqueue,
    duplicate_window: nanos(WORK_DUPLICATE_WINDOW_MS),
  });
}

async function ensureStream(jsm: JetStreamManager, cfg: Partial<StreamConfig> & { name: string }) {
  try {
    await jsm.streams.info(cfg.name);
  } catch (err) {
    if (apiCode(err) !== STREAM_NOT_FOUND) throw err;
    await jsm.streams.add(cfg);
  }
}

/**
 * The durable pull consumer of one function on the work stream. Its ack wait is the lease: a
 * delivery not acked in time is handed out again. The ack wait only ever grows (see `grow`).
 */
export class FunctionConsumers {
  readonly #jsm: JetStreamManager;
  readonly #o: ResolvedClusterOptions;
  /** Known ack wait (ms) per function consumer. */
  readonly #ackWait = new Map<string, Promise<number>>();

  constructor(jsm: JetStreamManager, o: ResolvedClusterOptions) {
    this.#jsm = jsm;
    this.#o = o;
  }

  /** Consumer name of `fn`. */
  name(fn: string): string {
    return `fn_${fnToken(fn)}`;
  }

  /** Makes sure the consumer exists (created with `leaseMs` as its ack wait); resolves its ack wait. */
  ensure(fn: string, leaseMs: number): Promise<number> {
    let known = this.#ackWait.get(fn);
    if (!known) {
      known = this.#open(fn, leaseMs);
      this.#ackWait.set(fn, known);
      known.catch(() => this.#ackWait.delete(fn));
    }
    return known;
  }

  /**
   * Raises the ack wait to `leaseMs` if it is shorter. Never lowers it: other nodes hold leases
   * that they computed with the longer one, and a shorter ack wait would hand their work out
   * while they still run it. Called after leasing, so that deliveries whose lease already expired
   * under the old ack wait are handed out first.
   */
  async grow(fn: string, leaseMs: number): Promise<void> {
    const current = await this.ensure(fn, leaseMs);
    if (leaseMs <= current) return;
    const update = this.#jsm.consumers
      .update(this.#o.workStream, this.name(fn), { ack_wait: nanos(leaseMs) })
      .then((info) => ackWaitMs(info));
    this.#ackWait.set(fn, update);
    await update;
  }

  /** Consumer info, or undefined when the function never had a consumer. */
  async info(fn: string): Promise<ConsumerInfo | undefined> {
    try {
      return await this.#jsm.consumers.info(this.#o.workStream, this.name(fn));
    } catch (err) {
      if (apiCode(err) === CONSUMER_NOT_FOUND) return undefined;
      throw err;
    }
  }

  /** Forgets cached state (after a reconnect the server may have been replaced). */
  forget(fn: string): void {
    this.#ackWait.delete(fn);
  }

  async #open(fn: string, leaseMs: number): Promise<number> {
    const existing = await this.info(fn);
    if (existing) return ackWaitMs(existing);
    const info = await this.#jsm.consumers.add(this.#o.workStream, {
      durable_name: this.name(fn),
      filter_subject: workSubject(this.#o, fn),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(leaseMs),
      max_deliver: -1,
      max_ack_pending: MAX_ACK_PENDING,
    });
    return ackWaitMs(info);
  }
}

function ackWaitMs(info: ConsumerInfo): number {
  return Math.round((info.config.ack_wait ?? 30e9) / 1e6); // the server default is 30 s
}

/** The JetStream API error code of `err`, if it is one. */
export function apiCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; api_error?: { err_code?: number } };
  if (typeof e?.code === "number") return e.code;
  return e?.api_error?.err_code;
}
