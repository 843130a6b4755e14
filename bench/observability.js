// What instrumentation costs: end-to-end throughput with metrics, trace ids and OTLP export on
// (to a local collector that accepts and drops spans) against all of it off.
import { createServer } from "node:http";
import { drive, withEddy } from "./e2e.js";
import { median } from "./machine.js";

/**
 * Three Eddys run side by side in this process (instrumentation off, default, default + OTLP
 * export of every span) and take turns: each round publishes `total` events to each, in an order
 * that rotates. Every Eddy is warm (JIT, sandboxes) and grows its data file at the same pace, and
 * a round's three runs are seconds apart, so a change in the machine's speed (this one shares its
 * host) hits the three alike. The overhead is figured from each round's ratios (see `spread`).
 *
 * CPU per event counts this whole process (servers, sandboxes and the publishing client); at
 * saturation, throughput is inversely proportional to it, and it is steadier than events/s.
 */
export async function instrumentationOverhead({ total = 10_000, rounds = 20 } = {}) {
  const collector = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${collector.address().port}`;
  const modes = [
    ["off", { instrumentation: false }],
    ["metricsAndIds", {}],
    ["withOtlpExport", { otlpEndpoint: endpoint }],
  ];
  const runs = Object.fromEntries(modes.map(([name]) => [name, []]));
  try {
    await withEddies(modes, async (eddies) => {
      const warmup = Math.min(total, 5_000);
      for (const eddy of eddies) await drive(eddy, { total: warmup });
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < eddies.length; k++) {
          const i = (round + k) % eddies.length;
          runs[modes[i][0]].push(await drive(eddies[i], { total, offset: warmup + round * total }));
        }
      }
    });
  } finally {
    collector.closeAllConnections();
    collector.close();
  }
  const summary = (rs) => ({
    eventsPerSecond: median(rs.map((r) => r.eventsPerSecond)),
    cpuMicrosPerEvent: round1(median(rs.map((r) => r.cpuMicrosPerEvent))),
    rounds: rs.map((r) => r.eventsPerSecond),
  });
  // Positive: more CPU per event, fewer events/s than with instrumentation off in the same round.
  const overhead = (name, pick, sign) =>
    spread(runs[name].map((r, i) => sign * (pick(r) / pick(runs.off[i]) - 1) * 100));
  const cpu = (r) => r.cpuMicrosPerEvent;
  const rate = (r) => r.eventsPerSecond;
  return {
    events: total,
    rounds,
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

/** Starts one Eddy per mode, all at once, and stops them after `fn`. */
function withEddies(modes, fn, started = []) {
  if (started.length === modes.length) return fn(started);
  return withEddy((eddy) => withEddies(modes, fn, [...started, eddy]), modes[started.length][1]);
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
