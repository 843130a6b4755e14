// Peers benchmark: the same queue workloads on Eddy (embedded and a 1-node cluster), BullMQ and
// pg-boss, alternately, several rounds, each system started fresh for each run:
//   - throughput: `jobs` no-op jobs enqueued (batches of 500, 4 in flight) and run to completion;
//   - latency: one job at a time at `rate`/s for `seconds` (after a second of warm-up that is not
//     counted), enqueue → handler start.
// `node bench/peers.js [--quick]` runs it alone; bench/run.js runs it as the "peers" section.
import { fileURLToPath } from "node:url";
import { median, percentile } from "./machine.js";
import { inBatches, paced } from "./pace.js";
import { SETTINGS, SYSTEMS } from "./peer-systems.js";

const BATCH = 500;
const IN_FLIGHT = 4;

/** Resolves `{ settings, skipped, systems: { name: { throughput, latency } } }`, rounds and medians. */
export async function peersBench({ jobs = 50_000, rate = 1_000, seconds = 10, rounds = 3 } = {}) {
  const names = [];
  const skipped = {};
  for (const [name, s] of Object.entries(SYSTEMS)) {
    const down = await s.down();
    if (down) skipped[name] = down;
    else names.push(name);
  }
  const runs = Object.fromEntries(names.map((n) => [n, { throughput: [], latency: [] }]));
  for (let round = 0; round < rounds; round++) {
    // Each round starts with a different system, so that drift in the machine's load spreads out.
    const order = names.map((_, i) => names[(i + round) % names.length]);
    for (const name of order) {
      const r = await run(name, (s) => throughput(s, jobs));
      runs[name].throughput.push(r);
      console.log(`round ${round + 1} throughput ${name}: ${r.jobsPerSecond} jobs/s`);
    }
    for (const name of order.filter((n) => SYSTEMS[n].latency !== false)) {
      const r = await run(name, (s) => latency(s, rate, seconds));
      runs[name].latency.push(r);
      console.log(`round ${round + 1} latency ${name}: p50 ${r.p50} p99 ${r.p99} max ${r.max} ms`);
    }
  }
  const systems = {};
  for (const name of names) {
    const t = runs[name].throughput.map((r) => r.jobsPerSecond);
    const l = runs[name].latency;
    systems[name] = {
      handler: SYSTEMS[name].handler,
      throughput: { median: median(t), min: Math.min(...t), max: Math.max(...t), rounds: t },
      latency:
        l.length === 0
          ? undefined
          : {
              p50: median(l.map((r) => r.p50)),
              p99: median(l.map((r) => r.p99)),
              p99Min: Math.min(...l.map((r) => r.p99)),
              p99Max: Math.max(...l.map((r) => r.p99)),
              max: Math.max(...l.map((r) => r.max)),
              rounds: l,
            },
    };
  }
  return {
    jobs,
    rate,
    seconds,
    rounds,
    batch: BATCH,
    inFlight: IN_FLIGHT,
    settings: SETTINGS,
    skipped,
    systems,
  };
}

async function run(name, workload) {
  const system = await SYSTEMS[name].start();
  try {
    return await workload(system);
  } finally {
    await system.stop();
  }
}

async function throughput(system, jobs) {
  system.expect(jobs);
  const started = performance.now();
  await inBatches(jobs, BATCH, IN_FLIGHT, (offset, n) =>
    system.sendBatch(Array.from({ length: n }, (_, i) => ({ n: offset + i }))),
  );
  const enqueued = performance.now();
  await system.finished();
  const done = performance.now();
  return {
    jobsPerSecond: Math.round(jobs / ((done - started) / 1000)),
    enqueuePerSecond: Math.round(jobs / ((enqueued - started) / 1000)),
  };
}

async function latency(system, rate, seconds) {
  system.expect(rate * (seconds + 1));
  const job = (measure) => () => system.send({ measure, sentAt: performance.timeOrigin + performance.now() });
  await paced(rate, rate, job(false));
  await paced(rate, rate * seconds, job(true));
  await system.finished();
  const ms = (await system.latencies()).sort((a, b) => a - b);
  if (ms.length !== rate * seconds) throw new Error(`measured ${ms.length} of ${rate * seconds} jobs`);
  const r = (v) => Math.round(v * 100) / 100;
  return { jobs: ms.length, p50: r(percentile(ms, 50)), p99: r(percentile(ms, 99)), max: r(ms.at(-1)) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  const result = await peersBench(quick ? { jobs: 10_000, seconds: 3, rounds: 2 } : {});
  console.log(JSON.stringify(result.systems, (k, v) => (k === "rounds" ? undefined : v), 2));
}
