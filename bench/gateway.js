// Gateway benchmark: a hello route through Eddy's gateway (the function in its worker-thread
// sandbox) against a bare `node:http` server and Fastify returning the same body, side by side in
// one run, with autocannon (50 connections); then the same route with the response cache on.
// Each server runs in its own process; autocannon runs in this one.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";

const EDDY = fileURLToPath(new URL("../packages/cli/bin/eddy.js", import.meta.url));
const FASTIFY = fileURLToPath(new URL("../node_modules/fastify/fastify.js", import.meta.url));
const BODY = JSON.stringify({ hello: "world" });

const bare = `
const http = require("node:http");
const body = ${JSON.stringify(BODY)};
http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}).listen(0, "127.0.0.1", function () { console.log("ready on http://127.0.0.1:" + this.address().port); });
`;

const fastify = (path) => `
import Fastify from ${JSON.stringify(path)};
const app = Fastify({ logger: false });
app.get("/hello", async () => ({ hello: "world" }));
const url = await app.listen({ port: 0, host: "127.0.0.1" });
console.log("ready on " + url);
`;

const app = {
  "functions/hello.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "hello", triggers: [on.http("GET /hello", { public: true })] },
  async () => ({ hello: "world" }),
);
`,
  "functions/hello-cached.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "hello-cached", triggers: [on.http("GET /hello-cached", { public: true, cache: { ttl: "10m" } })] },
  async () => ({ hello: "world" }),
);
`,
};

/** Starts a server process and resolves its URL once it prints "ready on URL". */
function server(args, env = {}) {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => (child.kill("SIGKILL"), reject(new Error(`no ready line:\n${out}`))),
      30_000,
    );
    const onData = (c) => {
      out += c.toString();
      const m = /ready on (http:\/\/[\d.:]+)/.exec(out) ?? /"url":"(http:\/\/[\d.:]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          pid: child.pid,
          stop: () =>
            new Promise((r) => {
              child.once("exit", r);
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
            }),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
}

function cannon(url, seconds) {
  return new Promise((resolve, reject) => {
    autocannon({ url, connections: 50, duration: seconds }, (err, r) => (err ? reject(err) : resolve(r)));
  });
}

/** Warms up, then measures: req/s (mean), latency p50 / p99 (ms), non-2xx count. */
async function measure(url, seconds) {
  await cannon(url, 2);
  const r = await cannon(url, seconds);
  return {
    reqPerSec: Math.round(r.requests.average),
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
  };
}

/**
 * Runs every setup `rounds` times in turn (bare, Fastify, Eddy, Eddy cached) and keeps, per setup,
 * the round with the median throughput.
 */
export async function gatewayBench({ seconds = 10, rounds = 1 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-gw-"));
  for (const [f, text] of Object.entries(app)) {
    mkdirSync(join(dir, f, ".."), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  const fastifyFile = join(dir, "fastify.mjs");
  writeFileSync(fastifyFile, fastify(FASTIFY));
  const setups = [
    ["node:http (bare)", () => server(["-e", bare]), "/hello"],
    ["Fastify", () => server([fastifyFile]), "/hello"],
    [
      "Eddy gateway (sandbox)",
      () => server([EDDY, "start", dir, "--port", "0", "--no-auth"], { EDDY_LOG_LEVEL: "info" }),
      "/hello",
    ],
    [
      "Eddy gateway, cache on",
      () => server([EDDY, "start", dir, "--port", "0", "--no-auth"], { EDDY_LOG_LEVEL: "info" }),
      "/hello-cached",
    ],
  ];
  const runs = new Map(setups.map(([name]) => [name, []]));
  try {
    for (let round = 0; round < rounds; round++) {
      for (const [name, start, path] of setups) {
        const s = await start();
        try {
          const r = await measure(`${s.url}${path}`, seconds);
          runs.get(name).push(r);
          console.log(
            `  ${name}: ${r.reqPerSec} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${r.errors ? `, ${r.errors} errors` : ""}`,
          );
        } finally {
          await s.stop();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const rows = setups.map(([name]) => {
    const sorted = [...runs.get(name)].sort((a, b) => a.reqPerSec - b.reqPerSec);
    return { setup: name, ...sorted[Math.floor(sorted.length / 2)] };
  });
  const base = rows[0];
  for (const r of rows) {
    r.vsBare = Math.round((r.reqPerSec / base.reqPerSec) * 100);
    r.p99VsBare = Math.round((r.p99 / base.p99) * 100) / 100;
  }
  return { connections: 50, seconds, rounds, rows };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const seconds = Number(process.argv[2] ?? 5);
  console.log(JSON.stringify(await gatewayBench({ seconds }), null, 2));
}
