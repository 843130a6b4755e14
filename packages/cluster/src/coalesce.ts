import type { AppendEntry, AppendResult } from "@eddy/server";

type Append = (entries: AppendEntry[], options: { dedupWindowMs: number }) => Promise<AppendResult[]>;

interface Waiting {
  entries: AppendEntry[];
  resolve: (results: AppendResult[]) => void;
  reject: (err: unknown) => void;
}

/**
 * Joins the appends that arrive while one is running into a single append made as soon as it
 * ends, as the embedded store's group commit does for its transactions: a burst of one-event
 * requests costs one round of PostgreSQL queries, not one round each. Each caller gets the results
 * of its own entries; an entry repeating an earlier caller's dedup key is a duplicate, as it would
 * have been had the calls run one after the other. If the joined append fails, every caller in it
 * gets the error (what it had sent may or may not be stored; a retry is deduplicated).
 */
export function coalesceAppends(append: Append): Append {
  let waiting: Waiting[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const results = await append(
          batch.flatMap((w) => w.entries),
          // Every entry carries its own window (set in `join`), so this one is never used.
          { dedupWindowMs: 0 },
        );
        let at = 0;
        for (const w of batch) w.resolve(results.slice(at, (at += w.entries.length)));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    running = false;
  }

  return (entries, options) =>
    new Promise<AppendResult[]>((resolve, reject) => {
      const own = entries.map((e) => ({ ...e, dedupWindowMs: e.dedupWindowMs ?? options.dedupWindowMs }));
      waiting.push({ entries: own, resolve, reject });
      if (!running) void drain();
    });
}
