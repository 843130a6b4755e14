// Cluster benchmark: the same workload on the embedded backend, on a 1-node cluster and on a
// 3-node cluster, in one run. Every setup is real `eddy start` processes (the embedded one too, so
// that the client is never inside a server), on this machine's NATS and PostgreSQL.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import pg from "pg";
import { percentile } from "./machine.js";
import { inBatches, paced } from "./pace.js";

const EDDY = fileURLToPath(new URL("../packages/cli/bin/eddy.js", import.meta.url));
const NATS = process.env.EDDY_BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
const POSTGRES = process.env.EDDY_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

const FUNCTIONS = {
  "noop.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "noop", triggers: [on.event({ type: ["bench.noop"] })], concurrency: { max: 4 } },
  async () => {},
);
`,
  // Logs the time from publish (sentAt, epoch ms) to handler start.
  "probe.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "probe", triggers: [on.event({ type: ["bench.probe"] })], concurrency: { max: 4 } },
  async (event, ctx) => {
    ctx.log.info("latency", { ms: performance.timeOrigin + performance.now() - event.data.sentAt });
  },
);
`,
};

/** Whether NATS and PostgreSQL answer; a reason if not. */
export async function clusterServicesDown() {
  try {
    const nc = await connect({ servers: NATS, timeout: 2_000 });
    await nc.close();
    const c = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 2_000 });
    await c.connect();
    await c.end();
    return undefined;
  } catch (err) {
    return `NATS (${NATS}) or PostgreSQL (${POSTGRES}) unreachable: ${err.message}; run bash .ci/services.sh`;
  }
}

/**
 * Runs throughput and latency for each setup; resolves rows of
 * `{ setup, nodes, eventsPerSecond, publishPerSecond, p50, p90, p99, max }`.
 */
export async function clusterBench({ total = 20_000, rate = 200, seconds = 5 } = {}) {
  const setups = [
    { setup: "embedded", nodes: 1, cluster: false },
    { setup: "cluster", nodes: 1, cluster: true },
    { setup: "cluster", nodes: 3, cluster: true },
  ];
  const rows = [];
  for (const s of setups) {
    const run = await startSetup(s);
    try {
      const t = await throughput(run.urls, total);
      const l = await latency(run.urls, rate, seconds);
      rows.push({ setup: s.setup, nodes: s.nodes, ...t, ...l });
      console.log(rows[rows.length - 1]);
    } finally {
      await run.stop();
    }
  }
  return rows;
}

/**
 * Starts `nodes` `eddy start` processes on a temporary app made of `functions` (file → source):
 * the embedded store, or the cluster backend under a fresh prefix (dropped by `stop`).
 */
export async function startSetup({ nodes, cluster, functions = FUNCTIONS }) {
  const app = mkdtempSync(join(tmpdir(), "eddy-bench-app-"));
  mkdirSync(join(app, "functions"));
  for (const [file, text] of Object.entries(functions)) writeFileSync(join(app, "functions", file), text);
  const prefix = `bench_${randomBytes(4).toString("hex")}`;
  const args = cluster
    ? ["--backend", "cluster", "--nats", NATS, "--postgres", POSTGRES, "--cluster-prefix", prefix]
    : [];
  const procs = [];
  try {
    for (let i = 0; i < nodes; i++)
      procs.push(await startNode([...args, "--data-dir", join(app, `.eddy-${i}`)], app));
  } catch (err) {
    for (const p of procs) p.child.kill("SIGKILL");
    throw err;
  }
  return {
    urls: procs.map((p) => p.url),
    async stop() {
      await Promise.all(procs.map((p) => p.stop()));
      if (cluster) await dropPrefix(prefix);
      rmSync(app, { recursive: true, force: true });
    },
  };
}

function startNode(args, app) {
  // EDDY_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" profiles the nodes.
  const nodeArgs = process.env.EDDY_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(
    process.execPath,
    [...nodeArgs, EDDY, "start", app, "--port", "0", "--no-auth", ...args],
    {
      env: { ...process.env, EDDY_LOG_LEVEL: "info" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL"); // never leave a node behind
      reject(new Error(`node did not start:\n${out}`));
    }, 30_000);
    const onData = (chunk) => {
      out += chunk;
      const m = /"url":"(http:\/\/[\d.:]+)"/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      const exited = new Promise((r) => child.once("exit", r));
      resolve({
        url: m[1],
        child,
        async stop() {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(t);
        },
      });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`node exited with ${code}:\n${out}`)));
  });
}

async function publish(url, events) {
  const res = await fetch(`${url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents-batch+json" },
    body: JSON.stringify(events),
  });
  if (res.status !== 202) throw new Error(`publish: HTTP ${res.status} ${await res.text()}`);
}

async function backlog(url, fn) {
  const res = await fetch(`${url}/v1/functions/${fn}`);
  const body = await res.json();
  return body.deliveries.ready + body.deliveries.leased;
}

/** `total` no-op events in batches of 500, 4 producers, spread over the nodes; until all ran. */
async function throughput(urls, total, batchSize = 500) {
  const started = performance.now();
  let b = 0;
  await inBatches(total, batchSize, 4, (offset, n) =>
    publish(
      urls[b++ % urls.length],
      Array.from({ length: n }, (_, i) => ({
        specversion: "1.0",
        id: `t-${offset + i}`,
        source: "/bench",
        type: "bench.noop",
      })),
    ),
  );
  const published = performance.now();
  while ((await backlog(urls[0], "noop")) > 0) await new Promise((r) => setTimeout(r, 50));
  const done = performance.now();
  return {
    events: total,
    eventsPerSecond: Math.round(total / ((done - started) / 1000)),
    publishPerSecond: Math.round(total / ((published - started) / 1000)),
  };
}

/** One event at a time at `rate`/s for `seconds` (after a second of warm-up): publish → handler start. */
async function latency(urls, rate, seconds) {
  await paced(rate, rate, probe(urls, "w"));
  await paced(rate, rate * seconds, probe(urls, "m"));
  while ((await backlog(urls[0], "probe")) > 0) await new Promise((r) => setTimeout(r, 20));
  const res = await fetch(`${urls[0]}/v1/invocations?function=probe&limit=1000`);
  const { invocations } = await res.json();
  const ms = invocations
    .filter((r) => r.eventId.startsWith("m-"))
    .map((r) => r.logs[0]?.fields?.ms)
    .filter((v) => typeof v === "number")
    .sort((a, b) => a - b);
  const round = (v) => Math.round(v * 100) / 100;
  return {
    rate,
    seconds,
    measured: ms.length,
    p50: round(percentile(ms, 50)),
    p90: round(percentile(ms, 90)),
    p99: round(percentile(ms, 99)),
    max: round(ms[ms.length - 1]),
  };
}

function probe(urls, prefix) {
  return (i) =>
    publish(urls[i % urls.length], [
      {
        specversion: "1.0",
        id: `${prefix}-${i}`,
        source: "/bench",
        type: "bench.probe",
        data: { sentAt: performance.timeOrigin + performance.now() },
      },
    ]);
}

async function dropPrefix(prefix) {
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  for (const s of ["LOG", "WORK"])
    await jsm.streams.delete(`${prefix.toUpperCase()}_${s}`).catch(() => false);
  await nc.close();
  const c = new pg.Client({ connectionString: POSTGRES });
  await c.connect();
  await c.query(`DROP SCHEMA IF EXISTS ${prefix} CASCADE`);
  await c.end();
}

// `node bench/cluster.js [--quick]` runs this benchmark alone.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const down = await clusterServicesDown();
  if (down) throw new Error(down);
  const quick = process.argv.includes("--quick");
  console.table(await clusterBench(quick ? { total: 5_000, seconds: 3 } : {}));
}
