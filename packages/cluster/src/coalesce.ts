import type { AppendEntry, AppendResult } from "@eddy/server";

interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit: the calls made while `run` is busy wait, and go to its next run together as soon
 * as it ends, so a burst of small writes costs one round of queries rather than one round each
 * (the embedded store groups its commits the same way). `run` answers one output per item, in
 * order, and each caller gets its own; if a run fails, every caller in it gets the error (what it
 * sent may or may not be stored, as with any failed write).
 */
export class Joiner<I, O> {
  readonly #run: (items: I[]) => Promise<O[]>;
  readonly #waitTurn: boolean;
  #waiting: Waiting<I, O>[] = [];
  #running: Promise<void> | undefined;

  /**
   * @param options.waitTurn the first run also waits for the rest of this turn of the event loop,
   *   so that what one turn adds goes together (settles: many attempts end in one turn).
   */
  constructor(run: (items: I[]) => Promise<O[]>, options: { waitTurn?: boolean } = {}) {
    this.#run = run;
    this.#waitTurn = options.waitTurn ?? false;
  }

  /** Resolves with `item`'s output once the run that took it has ended. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /** Resolves when everything added so far has been run (or failed). */
  async flush(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    if (this.#waitTurn) await new Promise((r) => setImmediate(r));
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        const out = await this.#run(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(out[i]!));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    this.#running = undefined;
  }
}

/** {@link Joiner} as a function. */
export function joinWhileRunning<I, O>(run: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  const joiner = new Joiner(run);
  return (item) => joiner.add(item);
}

type Append = (entries: AppendEntry[], options: { dedupWindowMs: number }) => Promise<AppendResult[]>;

/**
 * Joins concurrent appends (one HTTP request per event, from many producers) into one. An entry
 * repeating an earlier caller's dedup key is a duplicate, as it would have been had the calls run
 * one after the other (one append call already answers so).
 */
export function coalesceAppends(append: Append): Append {
  const joined = joinWhileRunning<AppendEntry[], AppendResult[]>(async (calls) => {
    // Every entry carries its caller's window (below), so the call's own is never used.
    const results = await append(calls.flat(), { dedupWindowMs: 0 });
    let at = 0;
    return calls.map((c) => results.slice(at, (at += c.length)));
  });
  return (entries, options) =>
    joined(entries.map((e) => ({ ...e, dedupWindowMs: e.dedupWindowMs ?? options.dedupWindowMs })));
}
