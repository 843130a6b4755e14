// Runtime benchmarks: cold start of a never-run function (thread and process sandboxes) against the
// floor (a bare `new Worker` / `child_process.fork` of the same module), warm invocation overhead,
// and resident memory with 1,000 deployed idle functions.
import { fork, spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { BlankPool, bundleFunctions, SandboxPool } from "@eddy/server";
import { percentile } from "./machine.js";

const SDK_URL = import.meta.resolve("eddy");
const now = () => performance.timeOrigin + performance.now();

// The handler reports when it starts, on the same clock (epoch ms with sub-ms precision).
const probe = (i) => `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "probe-${i}", triggers: [on.event({ type: ["bench.probe.${i}"] })] },
  async (event, ctx) => { ctx.log.info("start", { at: performance.timeOrigin + performance.now() }); },
);
`;

function request(i) {
  return {
    event: { specversion: "1.0", id: `e-${i}`, source: "/bench", type: `bench.probe.${i}` },
    info: {
      id: `i-${i}`,
      attempt: 1,
      functionName: `probe-${i}`,
      version: "bench",
      deadline: Date.now() + 30_000,
    },
    emitSource: "/bench",
    emitIdPrefix: `p-${i}`,
  };
}

async function withBundles(count, fn) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-rt-"));
  mkdirSync(join(dir, "functions"));
  const files = Array.from({ length: count }, (_, i) => {
    const f = join(dir, "functions", `probe-${i}.ts`);
    writeFileSync(f, probe(i));
    return f;
  });
  try {
    const { bundles, failures } = await bundleFunctions(dir, files, join(dir, "bundles"));
    if (failures.length) throw new Error(failures[0].message);
    return await fn(bundles, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function stats(values) {
  const s = [...values].sort((a, b) => a - b);
  const r = (v) => Math.round(v * 100) / 100;
  return { n: s.length, p50: r(percentile(s, 50)), p99: r(percentile(s, 99)), max: r(s[s.length - 1]) };
}

/** A one-sandbox pool of a bundle, as the engine would make it for a function with default options. */
function poolOf(kind, bundle, blanks) {
  const load = { file: bundle.file, bundlePath: bundle.path, env: {} };
  return new SandboxPool(
    { kind, load, memoryMb: 128, max: 1, min: 0, idleMs: 60_000, loadTimeoutMs: 10_000 },
    blanks,
  );
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Cold start: each function is invoked once, never having run; time from the invoke call to the
 * handler's first line. Cold starts arrive one at a time, `gapMs` apart (the blank pool refills).
 */
export async function coldStart({ kind, count, gapMs = 100 }) {
  return withBundles(count, async (bundles, dir) => {
    const blanks = new BlankPool({ runtimeDir: join(dir, "runtime") });
    blanks.setInUse([{ kind, memoryMb: 128 }]);
    await pause(1000);
    const ms = [];
    const pools = [];
    try {
      for (const [i, b] of bundles.entries()) {
        const pool = poolOf(kind, b, blanks);
        pools.push(pool);
        const t0 = now();
        const result = await pool.invoke(request(i), 30_000);
        if (!result.ok) throw new Error(result.error.message);
        ms.push(result.logs[0].fields.at - t0);
        await pause(gapMs);
      }
    } finally {
      await Promise.all(pools.map((p) => p.close()));
      await blanks.close();
    }
    return stats(ms);
  });
}

/** The floor: start a bare worker thread or child process on the same bundle, until its code ran. */
export async function coldStartFloor({ kind, count, gapMs = 100 }) {
  return withBundles(count, async (bundles, dir) => {
    const ms = [];
    for (const b of bundles) {
      // The same module, with one line at its end that reports when it has been evaluated.
      const path = join(dir, `floor-${b.version}.mjs`);
      const report =
        kind === "thread"
          ? `import { parentPort as __p } from "node:worker_threads"; __p.postMessage(performance.timeOrigin + performance.now());`
          : `process.send(performance.timeOrigin + performance.now(), () => process.exit(0));`;
      // The bundle takes the SDK from the sandbox, as in a blank sandbox: the floor loads it too.
      const sdk = `import * as __sdk from ${JSON.stringify(SDK_URL)}; globalThis[Symbol.for("eddy.sdk")] = __sdk;`;
      writeFileSync(path, `${sdk}\n${readFileSync(b.path, "utf8")}\n${report}\n`);
      const t0 = now();
      const at = await new Promise((resolve, reject) => {
        if (kind === "thread") {
          const w = new Worker(path);
          w.once("message", (m) => (resolve(m), void w.terminate()));
          w.once("error", reject);
        } else {
          const c = fork(path, [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
          c.once("message", resolve);
          c.once("error", reject);
        }
      });
      ms.push(at - t0);
      await pause(gapMs);
    }
    return stats(ms);
  });
}

/** Warm overhead: round trip of a no-op attempt in a loaded sandbox (the handler does nothing). */
export async function warmOverhead({ kind, iterations }) {
  return withBundles(1, async ([b], dir) => {
    const blanks = new BlankPool({ runtimeDir: join(dir, "runtime") });
    const pool = poolOf(kind, b, blanks);
    try {
      const req = request(0);
      for (let i = 0; i < 500; i++) await pool.invoke(req, 30_000); // warm-up: JIT on both sides
      const ms = [];
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        await pool.invoke(req, 30_000);
        ms.push(performance.now() - t0);
      }
      return stats(ms);
    } finally {
      await pool.close();
      await blanks.close();
    }
  });
}

/** RSS of a server process with `count` deployed functions, once every pool is at zero. */
export function idleFunctionsRss({ count }) {
  const child = fileURLToPath(new URL("./idle-functions.js", import.meta.url));
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--expose-gc", child, String(count)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.on("data", (c) => (out += c));
    p.once("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").pop()))
        : reject(new Error(`idle-functions exited ${code}`)),
    );
  });
}

/** `eddy dev` reload: from writing a changed function file to its new version running. */
export async function devReload({ count }) {
  const { createLogger, startEddy, watchFunctions } = await import("@eddy/server");
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-reload-"));
  mkdirSync(join(dir, "functions"));
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, "functions", `probe-${i}.ts`), probe(i));
  const eddy = await startEddy({ dir, port: 0, log: createLogger({ level: "silent" }) });
  const reports = [];
  const watcher = watchFunctions({
    dir,
    bundleDir: eddy.bundleDir,
    engine: eddy.engine,
    deployer: eddy.deployer,
    onReload: (r) => reports.push(r),
    onError: (err) => console.error(err),
  });
  try {
    await pause(500);
    const ms = [];
    for (let n = 0; n < count; n++) {
      const seen = reports.length;
      const t0 = performance.now();
      writeFileSync(join(dir, "functions", "probe-0.ts"), probe(0).replace(`"start"`, `"edit ${n}"`));
      while (reports.length === seen) await pause(2);
      if (reports[seen].changes.length !== 1)
        throw new Error(`reload ${n}: ${JSON.stringify(reports[seen])}`);
      ms.push(performance.now() - t0);
      await pause(100);
    }
    return stats(ms);
  } finally {
    watcher.close();
    await eddy.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
