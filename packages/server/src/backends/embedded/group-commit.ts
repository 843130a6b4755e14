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
 * At low load a write commits on the next turn of the event loop, so it waits for nothing. Under
 * load (the last commit carried at least `busyBatch` writes) a commit that follows another one
 * within `windowMs` is held back until the window has passed, so that writes from many turns share
 * it: small transactions have a fixed cost (begin, WAL frames, fsync) that would otherwise cap
 * throughput well below what one transaction of many writes achieves.
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
  #lastCommit = 0;
  #lastBatch = 0;
  readonly #busyBatch: number;

  constructor(
    db: Database.Database,
    options: { maxBatch?: number; windowMs?: number; busyBatch?: number } = {},
  ) {
    this.#db = db;
    this.#maxBatch = options.maxBatch ?? 10_000;
    this.#windowMs = options.windowMs ?? 0;
    this.#busyBatch = options.busyBatch ?? 64;
  }

  /** Runs `op` inside the next group transaction; resolves with its result after the commit. */
  run<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error("[embedded] backend is closed"));
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ op, resolve: resolve as (v: unknown) => void, reject });
      if (this.#pending.length >= this.#maxBatch) this.flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        const wait =
          this.#lastBatch >= this.#busyBatch ? this.#lastCommit + this.#windowMs - performance.now() : 0;
        if (wait <= 0) setImmediate(() => this.flush());
        else setTimeout(() => this.flush(), wait);
      }
    });
  }

  /** Commits everything pending now (also called on close). */
  flush(): void {
    this.#scheduled = false;
    this.#lastBatch = this.#pending.length;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxBatch);
      this.#commit(batch);
    }
    this.#lastCommit = performance.now();
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
