// What instrumentation costs: end-to-end throughput with metrics, trace ids and OTLP export on
// (to a local collector that accepts and drops spans) against all of it off.
import { fork } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import { median } from "./machine.js";

/**
 * Two Eddys, instrumentation off and on, each in a process of its own with its publishing client,
 * take turns: each round publishes `total` events to each, in an order that alternates. Both are
 * warm (JIT, sandboxes) and grow their data files at the same pace, and a round's two runs are a
 * second apart, so a change in the machine's speed (this one shares its host) hits both alike.
 * The overhead is figured from each round's ratio (see `spread`). The default (metrics and trace
 * ids) is measured against "off" first; OTLP export of every span (to a local sink that drops
 * them) after, in a pair of its own with fewer rounds.
 *
 * Not one process for both: there the Eddy started first ran measurably slower than the other
 * (they share one heap and one JIT; the cause was not pinned down), which moved the figure by ±3%
 * depending on which one was "off".
 *
 * CPU per event counts the Eddy's process (server, sandboxes and the publishing client); at
 * saturation, throughput is inversely proportional to it.
 */
export async function instrumentationOverhead({ total = 10_000, rounds = 20 } = {}) {
  const collector = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise((r) => collector.listen(0, "127.0.0.1", r));
  const off = { instrumentation: false };
  let main;
  let otlp;
  try {
    main = await pair(off, {}, total, rounds);
    const endpoint = `http://127.0.0.1:${collector.address().port}`;
    otlp = await pair(off, { otlpEndpoint: endpoint }, total, Math.max(3, Math.ceil(rounds / 3)));
  } finally {
    collector.closeAllConnections();
    collector.close();
  }
  const runs = { off: main.a, metricsAndIds: main.b, withOtlpExport: otlp.b, otlpOff: otlp.a };
  const summary = (rs) => ({
    eventsPerSecond: median(rs.map((r) => r.eventsPerSecond)),
    cpuMicrosPerEvent: round1(median(rs.map((r) => r.cpuMicrosPerEvent))),
    rounds: rs.map((r) => r.eventsPerSecond),
  });
  // Positive: more CPU per event, fewer events/s than with instrumentation off in the same round.
  const overhead = (name, pick, sign) => {
    const base = name === "withOtlpExport" ? runs.otlpOff : runs.off;
    return spread(runs[name].map((r, i) => sign * (pick(r) / pick(base[i]) - 1) * 100));
  };
  const cpu = (r) => r.cpuMicrosPerEvent;
  const rate = (r) => r.eventsPerSecond;
  return {
    events: total,
    rounds,
    otlpRounds: runs.withOtlpExport.length,
    off: summary(runs.off),
    metricsAndIds: summary(runs.metricsAndIds),
    withOtlpExport: summary(runs.withOtlpExport),
    cpuOverheadPercent: {
      metricsAndIds: overhead("metricsAndIds", cpu, 1),
      withOtlpExport: overhead("withOtlpExport", cpu, 1),
    },
    throughputLossPercent: {
      metricsAndIds: overhead("metricsAndIds", rate, -1),
      withOtlpExport: overhead("withOtlpExport", rate, -1),
    },
  };
}

/** Runs of two Eddys (options `a` and `b`) taking turns for `rounds` rounds of `total` events. */
async function pair(a, b, total, rounds) {
  const runs = { a: [], b: [] };
  const eddies = { a: await start(a), b: await start(b) };
  try {
    const warmup = Math.min(total, 5_000);
    for (const eddy of [eddies.a, eddies.b]) await eddy.drive({ total: warmup });
    for (let round = 0; round < rounds; round++) {
      for (const name of round % 2 ? ["b", "a"] : ["a", "b"]) {
        runs[name].push(await eddies[name].drive({ total, offset: warmup + round * total }));
      }
    }
  } finally {
    await Promise.all([eddies.a.stop(), eddies.b.stop()]);
  }
  return runs;
}

/** An Eddy in a child process (bench/instrumentation-worker.js). */
async function start(options) {
  const child = fork(fileURLToPath(new URL("./instrumentation-worker.js", import.meta.url)), [
    JSON.stringify(options),
  ]);
  // The child's next message; an error if it exits first (a crash would otherwise hang the bench).
  const reply = async () => {
    const exited = once(child, "exit").then(([code]) => {
      throw new Error(`instrumentation worker exited (code ${code}) without an answer`);
    });
    const [msg] = await Promise.race([once(child, "message"), exited]);
    if (msg.error) throw new Error(`instrumentation worker: ${msg.error}`);
    return msg;
  };
  await reply();
  return {
    async drive(run) {
      child.send(run);
      return (await reply()).result;
    },
    async stop() {
      child.send({ stop: true });
      await once(child, "exit");
    },
  };
}

/**
 * The median of per-round figures, and their mean with its 95% confidence interval (normal
 * approximation): a round's ratio varies by several percent on a shared machine, so one figure
 * alone would hide how sure it is.
 */
function spread(values) {
  const mean = values.reduce((a, v) => a + v, 0) / values.length;
  const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1));
  const half = (1.96 * sd) / Math.sqrt(values.length);
  return {
    median: round1(median(values)),
    mean: round1(mean),
    ci95: [round1(mean - half), round1(mean + half)],
  };
}

function round1(v) {
  return Math.round(v * 10) / 10;
}
