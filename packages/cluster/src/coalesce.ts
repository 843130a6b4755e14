import type { AppendEntry, AppendResult } from "@eddy/server";

interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit as a function: the calls made while `run` is busy wait, and go to its next run
 * together as soon as it ends, so a burst of small writes costs one round of queries rather than
 * one round each (the embedded store groups its commits the same way). `run` answers one output per
 * item, in order, and each caller gets its own; if a run fails, every caller in it gets the error
 * (what it sent may or may not be stored, as with any failed write).
 */
export function joinWhileRunning<I, O>(run: (items: I[]) => Promise<O[]>): (item: I) => Promise<O> {
  let waiting: Waiting<I, O>[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const out = await run(batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(out[i]!));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) void drain();
    });
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
