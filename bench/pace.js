// How the benchmarks load a system.

/**
 * Open loop: calls `send(i)` `total` times at `rate` per second, without waiting for one call to
 * finish before the next (a slow system gets a backlog, not a slower client); resolves once every
 * call has.
 */
export async function paced(rate, total, send) {
  const started = performance.now();
  const pending = new Set();
  for (let i = 0; i < total; i++) {
    const wait = started + (i * 1000) / rate - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const p = send(i).finally(() => pending.delete(p));
    pending.add(p);
  }
  await Promise.all(pending);
}

/**
 * Closed loop: `total` items in batches of `batchSize`, `inFlight` batches at a time, each one
 * `send(offset, n)`; resolves once every batch has been accepted.
 */
export async function inBatches(total, batchSize, inFlight, send) {
  let next = 0;
  const producer = async () => {
    while (next < total) {
      const offset = next;
      next += batchSize;
      await send(offset, Math.min(batchSize, total - offset));
    }
  };
  await Promise.all(Array.from({ length: inFlight }, producer));
}
