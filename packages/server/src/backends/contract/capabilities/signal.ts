import { sleep } from "../fixtures.js";

/**
 * Sends until `heard` resolves: a best-effort channel may not hand a listener what was sent in the
 * moment right after it started listening (cluster: before NATS registered the subscription).
 */
export async function sendUntilHeard(send: () => void, heard: Promise<unknown>): Promise<void> {
  let done = false;
  void heard.then(() => (done = true));
  while (!done) {
    send();
    await Promise.race([heard, sleep(50)]);
  }
}

/**
 * A listener that records what it is told and resolves `seen(pred)` once something it was told
 * matches: contract tests wait on the signal itself, never on a sleep.
 */
export function recorder<T>(): {
  listener: (m: T) => void;
  told: T[];
  seen(pred: (m: T) => boolean): Promise<T>;
} {
  const told: T[] = [];
  const waiting: { pred: (m: T) => boolean; resolve: (m: T) => void }[] = [];
  return {
    told,
    listener(m) {
      told.push(m);
      for (const w of waiting.splice(0)) {
        if (w.pred(m)) w.resolve(m);
        else waiting.push(w);
      }
    },
    seen(pred) {
      const hit = told.find(pred);
      if (hit !== undefined) return Promise.resolve(hit);
      return new Promise((resolve) => waiting.push({ pred, resolve }));
    },
  };
}
