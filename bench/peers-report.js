// The "Eddy against its peers" section of the results: ratios (Eddy ÷ peer) against the targets,
// then each system's figures with their spread over the rounds.

const EMBEDDED = "eddy embedded";
const CLUSTER = "eddy cluster (1 node)";
const BATCHES = "eddy embedded, batches";

/** Markdown for the peers section of results `r` (uses r.peers, and r.gateway, r.runtime, r.fanout when present). */
export function peersTable(r) {
  const p = r.peers;
  const sys = p.systems;
  const rows = [];
  const ratio = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : undefined);
  const row = (workload, eddy, peer, value, target, holds) =>
    rows.push(
      `| ${workload} | ${eddy} | ${peer} | ${value === undefined ? "n/a" : `${value}×`} | ${target} | ${holds === undefined ? "" : holds ? "yes" : "**no**"} |`,
    );
  // Like with like for the targets: one handler call per job against BullMQ, batches against
  // pg-boss's batches; the other pairs are shown without a target.
  for (const [eddy, peer, target] of [
    [EMBEDDED, "bullmq", 5],
    [BATCHES, "pg-boss", 20],
    [EMBEDDED, "pg-boss", undefined],
    [CLUSTER, "bullmq", undefined],
    [CLUSTER, "pg-boss", undefined],
  ]) {
    const v = ratio(sys[eddy]?.throughput.median, sys[peer]?.throughput.median);
    row(
      `queue throughput (${p.jobs.toLocaleString("en")} jobs)`,
      eddy,
      peer,
      v,
      target ? `≥ ${target}×` : "",
      target && v !== undefined ? v >= target : undefined,
    );
  }
  for (const eddy of [EMBEDDED, CLUSTER]) {
    for (const peer of ["bullmq", "pg-boss"]) {
      const v = ratio(sys[eddy]?.latency?.p99, sys[peer]?.latency?.p99);
      const t = peer === "bullmq";
      row(
        `latency p99 at ${p.rate}/s (lower is better)`,
        eddy,
        peer,
        v,
        t ? "≤ 1×" : "",
        t && v !== undefined ? v <= 1 : undefined,
      );
    }
  }
  const gw = r.gateway?.rows;
  if (gw) {
    const bare = gw.find((x) => x.setup.startsWith("node:http"));
    const fastify = gw.find((x) => x.setup === "Fastify");
    for (const eddy of gw.filter((x) => x.setup.startsWith("Eddy"))) {
      const v = ratio(eddy.reqPerSec, bare.reqPerSec);
      row("HTTP hello req/s", eddy.setup, "node:http (bare)", v, "≥ 0.75×", v >= 0.75);
      row("HTTP hello req/s", eddy.setup, "Fastify", ratio(eddy.reqPerSec, fastify.reqPerSec), "", undefined);
    }
  }
  const rt = r.runtime;
  if (rt) {
    for (const [kind, floor] of [
      ["thread", "bare new Worker"],
      ["process", "bare fork"],
    ]) {
      const eddy = rt.coldStart[kind];
      const v = ratio(eddy.p50, rt.floor[kind].p50);
      row(
        `cold start p50 (${eddy.p50} ms vs ${rt.floor[kind].p50} ms)`,
        `${kind} sandbox`,
        floor,
        v,
        "p50 ≤ 10 ms",
        eddy.p50 <= 10,
      );
    }
  }
  const f20 = r.fanout?.find((f) => f.fanout === 20);
  return `## Eddy against its peers

Same machine, same run. Queue workloads: ${p.rounds} round(s), the systems alternating (each round
starts with the next one), every system started fresh for each run, medians over the rounds. Every
system runs its workers in its own process and this process enqueues: Eddy over its HTTP API
(\`eddy start\`, a no-op function \`on.queue("jobs")\`), BullMQ and pg-boss with their client
libraries. Throughput: ${p.jobs.toLocaleString("en")} no-op jobs enqueued in batches of ${p.batch}
(${p.inFlight} batches in flight) and run to completion. Latency: one job at a time at ${p.rate}/s for
${p.seconds} s after a second of warm-up, enqueue → handler start.

| workload | Eddy | peer | Eddy ÷ peer | target | holds |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}
${f20 ? `\nFan-out: one event to 20 no-op functions, ${f20.events} events: ${f20.deliveriesPerSecond} deliveries/s (${f20.eventsPerSecond} events/s); no peer has this built in (BullMQ and pg-boss would enqueue 20 jobs).\n` : ""}
| system | a handler call gets | jobs/s median (min – max) | latency p50 | p99 median (min – max) | max | set up for throughput as |
| --- | --- | --- | --- | --- | --- | --- |
${Object.entries(sys)
  .map(([name, s]) => {
    const l = s.latency;
    const lat = l
      ? `${l.p50} ms | ${l.p99} ms (${l.p99Min} – ${l.p99Max}) | ${l.max} ms`
      : "not measured (a batch waits for its window) | | ";
    return `| ${name} | a ${s.handler} | ${s.throughput.median} (${s.throughput.min} – ${s.throughput.max}) | ${lat} | ${setup(name, p.settings)} |`;
  })
  .join("\n")}
${Object.entries(p.skipped)
  .map(([name, why]) => `\nNot run: ${name}: ${why}`)
  .join("")}

Durability differs and the table does not hide it: Eddy embedded commits every batch to SQLite with
fsync before it answers or acknowledges; the cluster writes to JetStream (file store) and
PostgreSQL; pg-boss commits to PostgreSQL (\`synchronous_commit\` on); this machine's Redis keeps
nothing on disk (no AOF, no snapshots), so BullMQ's figures are those of an in-memory queue.
`;
}

function setup(name, settings) {
  if (name === BATCHES)
    return `\`defineBatchFunction\`, \`on.queue("jobs", ${JSON.stringify(settings.eddyBatch).replaceAll('"', "")})\``;
  if (name.startsWith("eddy"))
    return `\`concurrency: ${JSON.stringify(settings.eddy.concurrency).replaceAll('"', "")}\`, one message per invocation`;
  if (name === "bullmq")
    return `one Worker, \`concurrency: ${settings.bullmq.concurrency}\`, \`addBulk\`, \`removeOnComplete: true\``;
  const b = settings["pg-boss"];
  return `${b.workers} \`work()\` loops, \`batchSize: ${b.batchSize}\`, \`pollingIntervalSeconds: ${b.pollingIntervalSeconds}\` (its minimum), \`insert()\` in batches`;
}
