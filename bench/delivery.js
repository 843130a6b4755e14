// Delivery benchmarks on the embedded backend: fan-out, queue throughput, FIFO with many groups.
import { drained, noop, postJson, withApp } from "./app.js";

/** One event type, `fanout` no-op subscribers: events/s and deliveries/s, publish to last completion. */
export async function fanout({ fanout = 5, total = 10_000, batchSize = 500 } = {}) {
  const files = {};
  const names = [];
  for (let i = 0; i < fanout; i++) {
    names.push(`sub${i}`);
    files[`sub${i}.ts`] = noop(`sub${i}`, `on.event({ type: ["bench.fanout"] })`);
  }
  return withApp(files, async (eddy) => {
    const t0 = performance.now();
    for (let offset = 0; offset < total; offset += batchSize) {
      const batch = Array.from({ length: Math.min(batchSize, total - offset) }, (_, i) => ({
        specversion: "1.0",
        id: `f-${offset + i}`,
        source: "/bench",
        type: "bench.fanout",
      }));
      await postJson(`${eddy.url}/v1/events`, batch, "application/cloudevents-batch+json");
    }
    await drained(eddy, names);
    const s = (performance.now() - t0) / 1000;
    return {
      fanout,
      events: total,
      seconds: round(s),
      eventsPerSecond: Math.round(total / s),
      deliveriesPerSecond: Math.round((total * fanout) / s),
    };
  });
}

/** Messages sent to a queue (HTTP batches) and consumed by a no-op function: messages/s. */
export async function queueThroughput({ total = 10_000, batchSize = 500, fifoGroups = 0 } = {}) {
  const queue = fifoGroups > 0 ? "bench.fifo" : "bench";
  const files = { "consumer.ts": noop("consumer", `on.queue("${queue}")`) };
  return withApp(files, async (eddy) => {
    const t0 = performance.now();
    for (let offset = 0; offset < total; offset += batchSize) {
      const messages = Array.from({ length: Math.min(batchSize, total - offset) }, (_, i) => ({
        body: { n: offset + i },
        ...(fifoGroups > 0 ? { groupId: `g${(offset + i) % fifoGroups}` } : {}),
      }));
      await postJson(`${eddy.url}/v1/queues/${queue}/messages`, { messages });
    }
    await drained(eddy, [`queue:${queue}`]);
    const s = (performance.now() - t0) / 1000;
    return {
      queue,
      groups: fifoGroups || undefined,
      messages: total,
      seconds: round(s),
      messagesPerSecond: Math.round(total / s),
    };
  });
}

function round(v) {
  return Math.round(v * 100) / 100;
}
