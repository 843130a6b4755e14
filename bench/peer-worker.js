// A peer's worker in its own process, as a deployment runs it: BullMQ on Redis or pg-boss on
// PostgreSQL, with a no-op handler. `node bench/peer-worker.js SETTINGS_JSON`, forked by
// bench/peer-systems.js, which holds the settings. The parent sends `{ expect: n }`; once n jobs
// have run this process answers `{ done: n, latencies }` (the enqueue → handler start time of the
// jobs marked `measure`, from the `sentAt` they carry: epoch ms with sub-ms precision, the same
// clock here).
import { Worker } from "bullmq";
import IORedis from "ioredis";
import PgBoss from "pg-boss";

const { system, queue, redis, postgres, schema, settings } = JSON.parse(process.argv[2]);
let expect = Infinity;
let ran = 0;
const latencies = [];

function handle(data) {
  const startedAt = performance.timeOrigin + performance.now();
  if (data?.measure) latencies.push(startedAt - data.sentAt);
  if (++ran === expect) process.send({ done: ran, latencies });
}

process.on("message", (msg) => {
  if (msg.expect === undefined) return;
  expect = msg.expect;
  ran = 0;
  latencies.length = 0;
});

let stop;
if (system === "bullmq") {
  const connection = new IORedis(redis, { maxRetriesPerRequest: null });
  const worker = new Worker(queue, async (job) => handle(job.data), {
    connection,
    concurrency: settings.concurrency,
  });
  await worker.waitUntilReady();
  stop = async () => {
    await worker.close();
    connection.disconnect();
  };
} else if (system === "pg-boss") {
  const boss = new PgBoss({ connectionString: postgres, schema, max: settings.workers + 2 });
  boss.on("error", (err) => console.error(err));
  await boss.start();
  for (let i = 0; i < settings.workers; i++) {
    await boss.work(
      queue,
      { batchSize: settings.batchSize, pollingIntervalSeconds: settings.pollingIntervalSeconds },
      async (jobs) => {
        for (const job of jobs) handle(job.data);
      },
    );
  }
  stop = () => boss.stop({ graceful: true, wait: true, timeout: 5_000 });
} else {
  throw new Error(`unknown system ${JSON.stringify(system)}: expected bullmq or pg-boss`);
}

process.on("SIGTERM", () => {
  stop().then(
    () => process.exit(0),
    (err) => (console.error(err), process.exit(1)),
  );
});
process.send({ ready: true });
