// What instrumentation costs: end-to-end throughput with metrics, trace ids and OTLP export on
// (to a local collector that accepts and drops spans) against all of it off, alternating rounds.
import { createServer } from "node:http";
import { throughput } from "./e2e.js";
import { median } from "./machine.js";

/**
 * Median events/s and CPU per event with instrumentation on and off. CPU per event is steadier
 * than events/s on a shared machine; at saturation, throughput is inversely proportional to it.
 */
export async function instrumentationOverhead({ total = 20_000, rounds = 2 } = {}) {
  const collector = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${collector.address().port}`;
  const on = [];
  const off = [];
  const bare = [];
  try {
    for (let i = 0; i < rounds; i++) {
      off.push(await throughput({ total, options: { instrumentation: false } }));
      bare.push(await throughput({ total }));
      on.push(await throughput({ total, options: { otlpEndpoint: endpoint } }));
    }
  } finally {
    collector.closeAllConnections();
    collector.close();
  }
  const rate = (rs) => median(rs.map((r) => r.eventsPerSecond));
  const cpu = (rs) => median(rs.map((r) => r.cpuMicrosPerEvent));
  const pct = (a, b) => Math.round((a / b - 1) * 1000) / 10;
  return {
    events: total,
    rounds,
    off: {
      eventsPerSecond: rate(off),
      cpuMicrosPerEvent: cpu(off),
      rounds: off.map((r) => r.eventsPerSecond),
    },
    metricsAndIds: {
      eventsPerSecond: rate(bare),
      cpuMicrosPerEvent: cpu(bare),
      rounds: bare.map((r) => r.eventsPerSecond),
    },
    withOtlpExport: {
      eventsPerSecond: rate(on),
      cpuMicrosPerEvent: cpu(on),
      rounds: on.map((r) => r.eventsPerSecond),
    },
    // Positive: more CPU per event than with instrumentation off.
    cpuOverheadPercent: { metricsAndIds: pct(cpu(bare), cpu(off)), withOtlpExport: pct(cpu(on), cpu(off)) },
    throughputLossPercent: {
      metricsAndIds: -pct(rate(bare), rate(off)),
      withOtlpExport: -pct(rate(on), rate(off)),
    },
  };
}
