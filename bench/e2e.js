// End-to-end benchmarks on the embedded backend, in this process: events are published over HTTP
// (batch mode) and run by a no-op function in its worker-thread sandbox.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startEddy } from "@eddy/server";
import { percentile } from "./machine.js";
import { inBatches, paced } from "./pace.js";

const NOOP = `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "noop", triggers: [on.event({ type: ["bench.noop"] })], concurrency: { max: 4 } },
  async () => {},
);
`;
// Reports the time from publish (sentAt in the event, epoch ms with sub-ms precision) to handler start.
const PROBE = `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "probe", triggers: [on.event({ type: ["bench.probe"] })], concurrency: { max: 4 } },
  async (event, ctx) => {
    const now = performance.timeOrigin + performance.now();
    ctx.log.info("latency", { ms: now - event.data.sentAt });
  },
);
`;

export async function withEddy(fn, options = {}) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-"));
  mkdirSync(join(dir, "functions"));
  writeFileSync(join(dir, "functions", "noop.ts"), NOOP);
  writeFileSync(join(dir, "functions", "probe.ts"), PROBE);
  const eddy = await startEddy({ dir, port: 0, log: createLogger({ level: "silent" }), ...options });
  try {
    return await fn(eddy);
  } finally {
    await eddy.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function batch(type, n, offset, data = () => ({})) {
  return Array.from({ length: n }, (_, i) => ({
    specversion: "1.0",
    id: `b-${offset + i}`,
    source: "/bench",
    type,
    data: data(),
  }));
}

async function publish(url, events) {
  const res = await fetch(`${url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
  });
  if (res.status !== 202) throw new Error(`publish: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Publishes `total` events (ids from `offset`) to a running Eddy in batches and waits until every
 * one ran: the wall time and the CPU of this process (server, sandboxes and the publishing client).
 */
export async function drive(eddy, { total, offset = 0, batchSize = 500, inFlight = 4 }) {
  // Done when the last attempt's record is stored: exact, where polling the backlog would add up to
  // a polling interval to every run.
  let recorded = 0;
  let failed;
  let finished;
  const allRan = new Promise((resolve) => (finished = resolve));
  const unfollow = eddy.engine.observer.follow((rec) => {
    if (rec.fn !== "noop") return;
    if (rec.status !== "succeeded") failed ??= rec;
    else if (++recorded === total) finished();
  });
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  await inBatches(total, batchSize, inFlight, (at, n) =>
    publish(eddy.url, batch("bench.noop", n, offset + at)),
  );
  const published = performance.now();
  await allRan;
  // Spans still queued for OTLP export are this run's work, not the next run's.
  await eddy.engine.observer.spans.flush();
  const done = performance.now();
  const cpu = process.cpuUsage(cpu0);
  unfollow();
  if (failed) throw new Error(`an invocation failed: ${JSON.stringify(failed)}`);
  return {
    events: total,
    seconds: (done - started) / 1000,
    eventsPerSecond: Math.round(total / ((done - started) / 1000)),
    publishPerSecond: Math.round(total / ((published - started) / 1000)),
    cpuMicrosPerEvent: (cpu.user + cpu.system) / total,
  };
}

/** Publishes `total` events in batches to a fresh Eddy and waits until every one ran: events/s end to end. */
export async function throughput({ total = 50_000, batchSize = 500, inFlight = 4, options = {} } = {}) {
  return withEddy(async (eddy) => {
    const r = await drive(eddy, { total, batchSize, inFlight });
    return { ...r, cpuMicrosPerEvent: Math.round(r.cpuMicrosPerEvent) };
  }, options);
}

/**
 * Publishes one event at a time at `rate`/s for `seconds`, after a warm-up second that is not
 * counted (connections, JIT, sandbox pool): publish → handler start percentiles.
 */
export async function latency({ rate = 1_000, seconds = 10 } = {}) {
  return withEddy(async (eddy) => {
    await paced(rate, rate, probe(eddy.url, "warmup"));
    await paced(rate, rate * seconds, probe(eddy.url, "m"));
    for (;;) {
      const c = await eddy.engine.backend.queue.counts("probe");
      if (c.ready + c.leased === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const records = await eddy.engine.backend.records.queryInvocations({
      fn: "probe",
      limit: rate * (seconds + 1) + 10,
    });
    const ms = records
      .filter((r) => r.eventId.startsWith("m-"))
      .map((r) => r.logs[0]?.fields?.ms)
      .filter((v) => typeof v === "number")
      .sort((a, b) => a - b);
    return {
      rate,
      seconds,
      events: ms.length,
      p50: round(percentile(ms, 50)),
      p90: round(percentile(ms, 90)),
      p99: round(percentile(ms, 99)),
      max: round(ms[ms.length - 1]),
    };
  });
}

function probe(url, prefix) {
  return (i) =>
    publish(url, [
      {
        specversion: "1.0",
        id: `${prefix}-${i}`,
        source: "/bench",
        type: "bench.probe",
        data: { sentAt: performance.timeOrigin + performance.now() },
      },
    ]);
}

function round(v) {
  return Math.round(v * 100) / 100;
}
