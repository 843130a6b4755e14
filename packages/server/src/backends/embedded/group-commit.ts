import type Database from "better-sqlite3";

interface Pending {
  op: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: writes are gathered and run in a single SQLite transaction, so one commit (and one
 * fsync) covers all of them, and each caller's promise settles only after that commit.
 *
 * A commit has a fixed cost (begin, WAL frames of every page it dirtied, fsync): measured here at
 * ~250-350 µs for a few writes. Committing on every turn of the event loop made the embedded store
 * spend nearly all its time committing batches of three writes. So commits are paced: the next one
 * starts no sooner than one commit's (moving-average) duration after the previous one ended. When
 * idle that point is already past and a write commits on the next turn (no added latency); under
 * load commits take at most about half the time and every commit carries what arrived meanwhile.
 * The wait yields to I/O on every turn (setImmediate), so it is sub-millisecond, unlike a timer.
 *
 * An op that throws must not take the others down with it: the batch is first run optimistically
 * without savepoints (the fast path), and only if some op throws is it rolled back and run again
 * with a savepoint per op, so that exactly the failing ones are rejected. Ops therefore must be
 * safe to run twice inside a rolled-back transaction (they only touch the database).
 */
export class GroupCommit {
  readonly #db: Database.Database;
  readonly #maxBatch: number;
  readonly #windowMs: number;
  #pending: Pending[] = [];
  #scheduled = false;
  #closed = false;
  /** When the last commit ended, and a moving average of how long commits take (ms). */
  #lastEnd = 0;
  #cost = 0.25;

  /**
   * @param options.windowMs at least this long between commits under load, on top of the pacing
   *   (more throughput, more latency); default 0.
   */
  constructor(db: Database.Database, options: { maxBatch?: number; windowMs?: number } = {}) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 10_000;
    this.#windowMs = options.windowMs ?? 0;
  }

  /** Runs `op` inside the next group transaction; resolves with its result after the commit. */
  run<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("[embedded] backend is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (this.#pending.length >= this.#maxBatch) this.flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        const due = this.#lastEnd + this.#cost + this.#windowMs;
        const tick = () => {
          if (!this.#scheduled) return;
          if (performance.now() >= due || this.#pending.length >= this.#maxBatch) this.flush();
          else setImmediate(tick);
        };
        setImmediate(tick);
      }
    });
  }

  /** Commits everything pending now (also called on close). */
  flush(): void {
    this.#scheduled = false;
    if (this.#pending.length === 0) return;
    const start = performance.now();
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#commit(batch);
    }
    this.#lastEnd = performance.now();
    this.#cost = this.#cost * 0.8 + (this.#lastEnd - start) * 0.2;
  }

  /** Refuses new writes after committing the pending ones. */
  close(): void {
    this.flush();
    this.#closed = true;
  }

  #commit(batch: Pending[]): void {
    const results: unknown[] = new Array(batch.length);
    const errors: unknown[] = new Array(batch.length);
    try {
      this.#db.transaction(() => {
        for (let i = 0; i < batch.length; i++) results[i] = batch[i]!.op();
      })();
    } catch {
      // Some op threw and the whole transaction rolled back: run again, isolating each op.
      try {
        this.#db.transaction(() => {
          for (let i = 0; i < batch.length; i++) {
            try {
              results[i] = this.#db.transaction(batch[i]!.op)();
              errors[i] = undefined;
            } catch (err) {
              errors[i] = err ?? new Error("write failed");
            }
          }
        })();
      } catch (commitErr) {
        // The commit itself failed (disk full, I/O error): nothing of this batch is durable.
        for (const p of batch) p.reject(commitErr);
        return;
      }
    }
    for (let i = 0; i < batch.length; i++) {
      if (errors[i] !== undefined) batch[i]!.reject(errors[i]);
      else batch[i]!.resolve(results[i]);
    }
  }
}
