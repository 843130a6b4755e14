import type {
  LeaseCore,
  LeasedDelivery,
  LeaseOptions,
  QueueCounts,
  SettleResult,
  Settlement,
  SettleWrites,
} from "@eddy/server";
import type { ClusterDeadLetters } from "./dead-letters.js";
import type { StreamLane } from "./stream-lane.js";
import type { TableLane } from "./table-lane.js";
import { isTableToken } from "./table-rows.js";
import type { TableSettleDeps } from "./table-settle.js";
import { settleTableLease } from "./table-settle.js";

/** The parts of the cluster's delivery queue. */
export interface QueueParts {
  stream: StreamLane;
  table: TableLane;
  dead: ClusterDeadLetters;
  settleDeps: TableSettleDeps;
}

/**
 * The delivery queue of the cluster: two lanes behind one interface (see docs/cluster.md). The
 * stream lane (JetStream work queue, stream-lane.ts) carries plain deliveries fast; the table lane
 * (PostgreSQL, table-lane.ts) carries what needs bookkeeping: groups, FIFO, priority, batches,
 * cancel keys, debounce, and every queue. A lease token says which lane a lease belongs to.
 *
 * A lease with options (groups, FIFO, priority) and a batch lease are served by the table alone,
 * after moving whatever waits for that consumer on the stream over (`absorb`), so that their order
 * and limits hold over every delivery of the consumer. A plain lease takes from the table first
 * (if it may hold something), then from the stream.
 */
export class ClusterQueue implements LeaseCore {
  readonly #p: QueueParts;

  constructor(parts: QueueParts) {
    this.#p = parts;
  }

  async lease(
    fn: string,
    max: number,
    leaseMs: number,
    options: LeaseOptions = {},
  ): Promise<LeasedDelivery[]> {
    const { table, stream } = this.#p;
    if (options.perGroup !== undefined || options.ordered || options.byPriority) {
      await this.#absorb(fn, leaseMs);
      return table.lease(fn, max, leaseMs, options);
    }
    const out = table.mayHold(fn) ? await table.lease(fn, max, leaseMs) : [];
    if (out.length < max) out.push(...(await stream.lease(fn, max - out.length, leaseMs)));
    return out;
  }

  async leaseBatch(
    fn: string,
    maxSize: number,
    leaseMs: number,
    windowMs: number,
  ): Promise<LeasedDelivery[]> {
    await this.#absorb(fn, leaseMs);
    return this.#p.table.leaseBatch(fn, maxSize, leaseMs, windowMs);
  }

  #absorb(fn: string, leaseMs: number): Promise<void> {
    return this.#p.stream.absorb(fn, leaseMs, (list) => this.#p.table.add(list));
  }

  settle(lease: LeasedDelivery, settlement: Settlement, extra: SettleWrites): Promise<SettleResult> {
    return isTableToken(lease.leaseToken)
      ? settleTableLease(this.#p.settleDeps, lease, settlement, extra)
      : this.#p.stream.settle(lease, settlement, extra);
  }

  extend(lease: LeasedDelivery, leaseUntil: number): Promise<boolean> {
    return isTableToken(lease.leaseToken)
      ? this.#p.table.extend(lease, leaseUntil)
      : this.#p.stream.extend(lease, leaseUntil);
  }

  /** Cancel keys only ever take the table lane. */
  cancel(fn: string, cancelKey: string): Promise<{ id: string; eventId: string }[]> {
    return this.#p.table.cancel(fn, cancelKey);
  }

  async release(leases: LeasedDelivery[], dueAt?: number): Promise<void> {
    const table = leases.filter((l) => isTableToken(l.leaseToken));
    const stream = leases.filter((l) => !isTableToken(l.leaseToken));
    await Promise.all([
      table.length > 0 ? this.#p.table.release(table, dueAt) : undefined,
      stream.length > 0 ? this.#p.stream.release(stream, dueAt) : undefined,
    ]);
  }

  async nextDueAt(fn: string): Promise<number | undefined> {
    const [a, b] = await Promise.all([this.#p.stream.nextDueAt(fn), this.#p.table.nextDueAt(fn)]);
    if (a === undefined) return b;
    return b === undefined ? a : Math.min(a, b);
  }

  async counts(fn: string): Promise<QueueCounts> {
    const [stream, table, dead] = await Promise.all([
      this.#p.stream.counts(fn),
      this.#p.table.counts(fn),
      this.#p.dead.count(fn),
    ]);
    return { ready: stream.ready + table.ready, leased: stream.leased + table.leased, dead };
  }

  /** Stops timers (closing the backend). */
  close(): void {
    this.#p.stream.close();
  }
}
