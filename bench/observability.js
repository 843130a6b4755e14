// What instrumentation costs: end-to-end throughput with metrics, trace ids and OTLP export on
// (to a local collector that accepts and drops spans) against all of it off, alternating rounds.
import { createServer } from "node:http";
import { throughput } from "./e2e.js";

/** Median events/s with instrumentation on and off, and the overhead in percent. */
export async function instrumentationOverhead({ total = 20_000, rounds = 2 } = {}) {
  const collector = createServer((req, res) => {
    req.resume();
    req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end("{}"));
  });
  await new Promise((r) => collector.listen(0, "127.0.0.1", r));
  const endpoint = `http://127.0.0.1:${collector.address().port}`;
  const on = [];
  const off = [];
  try {
    for (let i = 0; i < rounds; i++) {
      off.push((await throughput({ total, options: { instrumentation: false } })).eventsPerSecond);
      on.push((await throughput({ total, options: { otlpEndpoint: endpoint } })).eventsPerSecond);
    }
  } finally {
    collector.close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const withIt = median(on);
  const without = median(off);
  return {
    events: total,
    rounds,
    on,
    off,
    medianOn: withIt,
    medianOff: without,
    overheadPercent: Math.round((1 - withIt / without) * 1000) / 10,
  };
}
