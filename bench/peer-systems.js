// The systems the peers benchmark compares, behind one shape: Eddy on its embedded store, Eddy on a
// 1-node cluster (NATS JetStream + PostgreSQL), BullMQ on Redis and pg-boss on PostgreSQL. Each
// runs its workers in its own process, as deployed; this process only enqueues.
//
//   const s = await SYSTEMS[name].start();
//   s.expect(n);             // before enqueueing n jobs
//   await s.sendBatch(datas) // or s.send(data), one job
//   await s.finished();      // once the n jobs ran
//   await s.latencies();     // enqueue → handler start of the jobs marked `measure`, in ms
//   await s.stop();
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import IORedis from "ioredis";
import pg from "pg";
import PgBoss from "pg-boss";
import { clusterServicesDown, startSetup } from "./cluster.js";

const WORKER = fileURLToPath(new URL("./peer-worker.js", import.meta.url));
const REDIS = process.env.EDDY_BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const POSTGRES = process.env.EDDY_BENCH_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/** How each system is set up for throughput, as its documentation advises; printed with the results. */
export const SETTINGS = {
  eddy: { concurrency: { max: 32, perSandbox: 16 } },
  eddyBatch: { batchSize: 1000, batchWindow: "50ms" },
  bullmq: { concurrency: 100, removeOnComplete: true },
  "pg-boss": { workers: 4, batchSize: 1000, pollingIntervalSeconds: 0.5 },
};

// One no-op function consuming the queue; a job marked `measure` logs enqueue → handler start.
const JOB_FUNCTION = `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "job", triggers: [on.queue("jobs")], concurrency: ${JSON.stringify(SETTINGS.eddy.concurrency)} },
  async (event, ctx) => {
    const startedAt = performance.timeOrigin + performance.now();
    if (event.data?.measure) ctx.log.info("latency", { ms: startedAt - event.data.sentAt });
  },
);
`;

// The same, as a batch function: up to batchSize messages per invocation (pg-boss's model).
const BATCH_FUNCTION = `import { defineBatchFunction, on } from "eddy";
export default defineBatchFunction(
  { name: "job", triggers: [on.queue("jobs", ${JSON.stringify(SETTINGS.eddyBatch)})] },
  async () => {},
);
`;

/**
 * `handler`: what one handler call gets, a job or a batch. `latency: false`: a system measured for
 * throughput only (a batch waits for its window by design).
 */
export const SYSTEMS = {
  "eddy embedded": { handler: "job", down: async () => undefined, start: () => startEddy(false) },
  "eddy embedded, batches": {
    handler: "batch",
    latency: false,
    down: async () => undefined,
    start: () => startEddy(false, BATCH_FUNCTION),
  },
  "eddy cluster (1 node)": { handler: "job", down: clusterServicesDown, start: () => startEddy(true) },
  bullmq: { handler: "job", down: redisDown, start: startBullmq },
  "pg-boss": { handler: "batch", down: postgresDown, start: startPgBoss },
};

async function startEddy(cluster, source = JOB_FUNCTION) {
  const run = await startSetup({ nodes: 1, cluster, functions: { "job.ts": source } });
  const url = run.urls[0];
  const post = async (messages) => {
    const res = await fetch(`${url}/v1/queues/jobs/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ messages }),
    });
    if (res.status !== 202) throw new Error(`send: HTTP ${res.status} ${await res.text()}`);
  };
  return {
    expect() {}, // Eddy says it is done through its queue counts (finished)
    sendBatch: (datas) => post(datas.map((body) => ({ body }))),
    send: (data) => post([{ body: data }]),
    async finished() {
      for (;;) {
        const { messages } = await (await fetch(`${url}/v1/queues/jobs`)).json();
        if (messages.ready + messages.leased === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    latencies: () => loggedLatencies(url),
    stop: () => run.stop(),
  };
}

/** The `latency` log lines of the job function's invocations, newest first, page by page. */
async function loggedLatencies(url) {
  const seen = new Set();
  const latencies = [];
  let before = "";
  for (;;) {
    const res = await fetch(`${url}/v1/invocations?function=job&limit=1000${before}`);
    const { invocations } = await res.json();
    let fresh = 0;
    for (const inv of invocations) {
      if (seen.has(inv.id)) continue;
      seen.add(inv.id);
      fresh++;
      const ms = inv.logs?.[0]?.fields?.ms;
      if (typeof ms === "number") latencies.push(ms);
    }
    if (invocations.length < 1000 || fresh === 0) return latencies;
    // Pages by start time: the oldest page's millisecond is read again, and repeats are skipped.
    before = `&before=${Math.min(...invocations.map((i) => i.startedAt)) + 1}`;
  }
}

/** Forks the peer's worker process and resolves once it is ready to take jobs. */
function forkWorker(system, queue, extra = {}) {
  const child = fork(
    WORKER,
    [
      JSON.stringify({
        system,
        queue,
        redis: REDIS,
        postgres: POSTGRES,
        settings: SETTINGS[system],
        ...extra,
      }),
    ],
    { stdio: ["ignore", "inherit", "inherit", "ipc"] },
  );
  // Set by expect(n), before any of the n jobs is sent: a "done" arriving early is not missed.
  let done;
  let markDone;
  let latencies = [];
  child.on("message", (msg) => {
    if (msg.done === undefined) return;
    latencies = msg.latencies;
    markDone?.();
  });
  const exited = new Promise((r) => child.once("exit", r));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`${system} worker exited with ${code}`)));
    child.once("message", () =>
      resolve({
        expect(n) {
          done = new Promise((r) => (markDone = r));
          child.send({ expect: n });
        },
        finished: () => done,
        latencies: () => latencies,
        async stop() {
          child.kill("SIGTERM");
          const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
          await exited;
          clearTimeout(t);
        },
      }),
    );
  });
}

async function startBullmq() {
  const name = `bench-${randomBytes(4).toString("hex")}`;
  const connection = new IORedis(REDIS, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  const worker = await forkWorker("bullmq", name);
  const opts = { removeOnComplete: SETTINGS.bullmq.removeOnComplete, removeOnFail: 1000 };
  return {
    expect: (n) => worker.expect(n),
    sendBatch: (datas) => queue.addBulk(datas.map((data) => ({ name: "job", data, opts }))),
    send: (data) => queue.add("job", data, opts),
    finished: () => worker.finished(),
    latencies: () => worker.latencies(),
    async stop() {
      await worker.stop();
      await queue.obliterate({ force: true });
      await queue.close();
      connection.disconnect();
    },
  };
}

async function startPgBoss() {
  const schema = `bench_pgboss_${randomBytes(4).toString("hex")}`;
  const name = "jobs";
  // The producer does no maintenance: the worker process is the one pg-boss instance that does.
  const boss = new PgBoss({ connectionString: POSTGRES, schema, supervise: false, schedule: false });
  boss.on("error", (err) => console.error(err));
  await boss.start();
  await boss.createQueue(name);
  const worker = await forkWorker("pg-boss", name, { schema });
  return {
    expect: (n) => worker.expect(n),
    sendBatch: (datas) => boss.insert(datas.map((data) => ({ name, data }))),
    send: (data) => boss.send(name, data),
    finished: () => worker.finished(),
    latencies: () => worker.latencies(),
    async stop() {
      await worker.stop();
      await boss.stop({ graceful: false, wait: true });
      const c = new pg.Client({ connectionString: POSTGRES });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

async function redisDown() {
  const c = new IORedis(REDIS, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    await c.connect();
    await c.ping();
    return undefined;
  } catch (err) {
    return `Redis (${REDIS}) unreachable: ${err.message}; run bash .ci/services.sh`;
  } finally {
    c.disconnect();
  }
}

async function postgresDown() {
  const c = new pg.Client({ connectionString: POSTGRES, connectionTimeoutMillis: 2_000 });
  try {
    await c.connect();
    return undefined;
  } catch (err) {
    return `PostgreSQL (${POSTGRES}) unreachable: ${err.message}; run bash .ci/services.sh`;
  } finally {
    await c.end().catch(() => {});
  }
}
