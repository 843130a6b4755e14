import type pg from "pg";
import type { ResolvedClusterOptions } from "./options.js";
import type { StreamLease } from "./peers.js";

/** A stream-lane lease as a heartbeat records it: with its ack subject, so that another node can give it back. */
export interface BeatLease extends StreamLease {
  reply: string;
}

/** A node that stopped beating, as the node that found it takes it over. */
export interface DeadNode {
  instance: string;
  node: string;
  seenAt: number;
  leases: BeatLease[];
}

/** What the heartbeat reads from and hands to the rest of the backend. */
export interface HeartbeatDeps {
  pool: pg.Pool;
  options: ResolvedClusterOptions;
  /** This node's stream-lane leases now. */
  leases(): BeatLease[];
  /** Gives a dead node's leases back for others to lease now; resolves how many it gave back. */
  takeOver(dead: DeadNode): Promise<number>;
  /**
   * This node's row was gone when it beat: other nodes took it for dead (it did not beat for
   * `deadAfterMs`: stopped, cut off from PostgreSQL) and gave its leases back, so it holds none.
   */
  lost(): void;
}

/**
 * Node liveness, so that the leases of a node that died are taken over within seconds instead of
 * when they end (the function's timeout + 10 s). Every `heartbeatMs` each node writes its row in
 * PostgreSQL `nodes` (PostgreSQL's clock, the one every node shares) with the stream-lane leases it
 * holds — JetStream knows which messages are unacknowledged, but not who holds them — and within a
 * quarter of that after it leases more. Each beat also deletes the rows not written for `deadAfterMs`; the delete
 * hands each dead row to exactly one node, which gives the dead node's leases back: a negative
 * ack on each stream-lane lease still running (so JetStream hands it out at once), and its
 * table-lane rows due now. The leases of live nodes are not touched: a node that beats keeps every
 * lease for its full length. A node that finds its own row gone was taken for dead and drops what
 * it held (its settles would be stale). Leases taken in the last moments before a death, not yet in
 * a beat, still end with their ack wait.
 */
export class Heartbeat {
  readonly #d: HeartbeatDeps;
  readonly #o: ResolvedClusterOptions;
  #timer: NodeJS.Timeout | undefined;
  #soon: NodeJS.Timeout | undefined;
  #beating: Promise<void> | undefined;
  #beats = 0;
  #closed = false;

  constructor(deps: HeartbeatDeps) {
    this.#d = deps;
    this.#o = deps.options;
  }

  /** Writes the first beat and starts beating. */
  async start(): Promise<void> {
    await this.#beat();
    this.#timer = setInterval(() => void this.#tick(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /**
   * New leases: beat within a quarter of `heartbeatMs` rather than at the next interval, so that a
   * node dying soon after it leased is taken over with them. A quarter, not at once: a busy node
   * leases many times a second, and each beat writes every lease it holds.
   */
  touch(): void {
    if (this.#soon || this.#closed) return;
    this.#soon = setTimeout(
      () => {
        this.#soon = undefined;
        void this.#tick();
      },
      Math.max(10, this.#o.heartbeatMs / 4),
    );
    this.#soon.unref();
  }

  /** Every live node's row, and rows of nodes that stopped beating and were not taken over yet. */
  async rows(): Promise<(DeadNode & { alive: boolean })[]> {
    const { rows } = await this.#d.pool.query<Row & { alive: boolean }>(
      "SELECT instance, node, seen_at, leases, seen_at >= now_ms() - $1::bigint AS alive FROM nodes",
      [this.#o.deadAfterMs],
    );
    return rows.map((r) => ({ ...fromRow(r), alive: r.alive }));
  }

  /** Stops beating and removes this node's row (it gives its leases back itself when it stops). */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#soon);
    await this.#beating?.catch(() => undefined);
    await this.#d.pool
      .query("DELETE FROM nodes WHERE instance = $1", [this.#o.instance])
      .catch(() => undefined);
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#beating) return;
    try {
      await this.#beat();
      await this.#reap();
    } catch (err) {
      this.#o.log?.warn({ err }, "[cluster] heartbeat failed; retrying");
    }
  }

  #beat(): Promise<void> {
    this.#beating = (async () => {
      const { rows } = await this.#d.pool.query<{ inserted: boolean }>(
        `INSERT INTO nodes (instance, node, seen_at, leases) VALUES ($1, $2, now_ms(), $3)
         ON CONFLICT (instance) DO UPDATE SET seen_at = now_ms(), leases = EXCLUDED.leases
         RETURNING (xmax = 0) AS inserted`,
        [this.#o.instance, this.#o.nodeId, JSON.stringify(this.#d.leases())],
      );
      if (this.#beats++ > 0 && rows[0]?.inserted) {
        this.#o.log?.warn(
          { node: this.#o.nodeId },
          `[cluster] this node did not beat for ${this.#o.deadAfterMs} ms and was taken for dead; its leases run elsewhere`,
        );
        this.#d.lost();
      }
    })().finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  /** Takes over every node that stopped beating; each dead row goes to exactly one node (DELETE … RETURNING). */
  async #reap(): Promise<void> {
    const { rows } = await this.#d.pool.query<Row>(
      `DELETE FROM nodes WHERE seen_at < now_ms() - $1::bigint AND instance <> $2
       RETURNING instance, node, seen_at, leases`,
      [this.#o.deadAfterMs, this.#o.instance],
    );
    for (const r of rows) {
      const dead = fromRow(r);
      const n = await this.#d.takeOver(dead);
      this.#o.log?.warn(
        { node: dead.node, leases: n },
        `[cluster] node ${dead.node} stopped (no heartbeat for ${this.#o.deadAfterMs} ms): took over ${n} of its leases`,
      );
    }
  }
}

interface Row {
  instance: string;
  node: string;
  seen_at: string | number;
  leases: BeatLease[];
}

function fromRow(r: Row): DeadNode {
  return { instance: r.instance, node: r.node, seenAt: Number(r.seen_at), leases: r.leases };
}
