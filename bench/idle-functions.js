// A server with N deployed functions, measured once loaded and idle (every pool at zero):
// `node --expose-gc bench/idle-functions.js 1000` prints one JSON line.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startEddy } from "@eddy/server";

const count = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), "eddy-bench-idle-"));
mkdirSync(join(dir, "functions"));
for (let i = 0; i < count; i++) {
  writeFileSync(
    join(dir, "functions", `fn-${i}.ts`),
    `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "fn-${i}", triggers: [on.event({ type: ["bench.idle.${i}"], source: [{ prefix: "/svc-${i % 50}" }] })] },
  async (event, ctx) => { ctx.log.info("ran", { i: ${i} }); },
);
`,
  );
}
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const before = rss();
const t0 = performance.now();
const eddy = await startEddy({ dir, port: 0, log: createLogger({ level: "silent" }) });
const loadSeconds = (performance.now() - t0) / 1000;
const functions = eddy.engine.functions();
const peak = rss();
// Let the sandboxes that read the configurations go, then measure.
await new Promise((r) => setTimeout(r, 3000));
globalThis.gc?.();
await new Promise((r) => setTimeout(r, 1000));
const live = functions.reduce(
  (n, f) => n + eddy.engine.function(f.name).pool.warm + eddy.engine.function(f.name).pool.busy,
  0,
);
const blanks = eddy.engine.blanks.state().reduce((n, s) => n + s.ready, 0);
const result = {
  functions: functions.length,
  failures: eddy.failures.length,
  loadSeconds: Math.round(loadSeconds * 10) / 10,
  rssMiB: rss(),
  rssBeforeStartMiB: before,
  rssPeakAfterLoadMiB: peak,
  sandboxesLoaded: live,
  blankSandboxes: blanks,
};
await eddy.close();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(result));
