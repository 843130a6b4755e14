// Open-loop load: calls `send(i)` `total` times at `rate` per second, without waiting for one call
// to finish before the next (a slow system gets a backlog, not a slower client); resolves once
// every call has.
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
