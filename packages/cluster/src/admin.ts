import type {
  DeadFilter,
  DeadLetter,
  DeadLetterAdmin,
  DeadQuery,
  DeliveryInfo,
  DeliveryInspectQuery,
} from "@eddy/server";
import type { ClusterDeadLetters } from "./dead-letters.js";
import type { StreamInspectDeps } from "./stream-inspect.js";
import { inspectStream } from "./stream-inspect.js";
import type { TableLane } from "./table-lane.js";

/**
 * Dead-letter administration of the cluster: the dead letters are PostgreSQL rows
 * (dead-letters.ts); the admin view merges both lanes' deliveries (stream-inspect.ts, table-lane.ts).
 */
export class ClusterDeadLetterAdmin implements DeadLetterAdmin {
  readonly #dead: ClusterDeadLetters;
  readonly #table: Pick<TableLane, "inspect">;
  readonly #stream: StreamInspectDeps;

  constructor(dead: ClusterDeadLetters, table: Pick<TableLane, "inspect">, stream: StreamInspectDeps) {
    this.#dead = dead;
    this.#table = table;
    this.#stream = stream;
  }

  list(fn: string, query: DeadQuery): Promise<DeadLetter[]> {
    return this.#dead.list(fn, query);
  }

  get(fn: string, id: string): Promise<DeadLetter | undefined> {
    return this.#dead.get(fn, id);
  }

  redrive(fn: string, filter: DeadFilter): Promise<number> {
    return this.#dead.redrive(fn, filter);
  }

  purge(fn: string, filter: DeadFilter): Promise<number> {
    return this.#dead.purge(fn, filter);
  }

  counts(): Promise<Record<string, number>> {
    return this.#dead.counts();
  }

  /** Both lanes' deliveries, merged oldest first (by due time, or lease end). */
  async inspect(query: DeliveryInspectQuery): Promise<DeliveryInfo[]> {
    const [stream, table] = await Promise.all([
      inspectStream(this.#stream, query),
      this.#table.inspect(query),
    ]);
    return [...stream, ...table].sort((a, b) => a.dueAt - b.dueAt).slice(0, query.limit);
  }
}
