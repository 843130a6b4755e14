// `node bench/ab.js OTHER_CHECKOUT [--rounds N] [--total N] [--seconds N] [--only throughput,latency]`:
// compares the e2e benchmarks of this checkout ("new") with another built checkout ("old"), each
// round in a fresh process, the two sides alternating (each round starts with the other side), so
// drift in the machine's load spreads over both.
// Prints every round and the medians. EDDY_BENCH_NODE_ARGS passes flags (e.g. --cpu-prof) to the
// rounds' processes.
import { execFileSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[2] === "--round") {
  // Child: one round of one benchmark against the checkout's bench/e2e.js.
  const [, , , e2e, kind, arg] = process.argv;
  const mod = await import(pathToFileURL(e2e).href);
  const r =
    kind === "throughput"
      ? await mod.throughput({ total: Number(arg) })
      : await mod.latency({ rate: 1000, seconds: Number(arg) });
  process.stdout.write(JSON.stringify(r) + "\n");
  process.exit(0);
}

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : args[i + 1];
};
const other = args[0] && !args[0].startsWith("--") ? resolve(args[0]) : undefined;
if (!other) throw new Error("usage: node bench/ab.js OTHER_CHECKOUT [--rounds N]");
const rounds = Number(opt("rounds", 5));
const total = Number(opt("total", 10_000));
const seconds = Number(opt("seconds", 3));
const only = opt("only", "throughput,latency").split(",");
const sides = { new: join(here, "e2e.js"), old: join(other, "bench", "e2e.js") };
const nodeArgs = process.env.EDDY_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];

function round(side, kind) {
  const out = execFileSync(
    process.execPath,
    [
      ...nodeArgs,
      fileURLToPath(import.meta.url),
      "--round",
      sides[side],
      kind,
      String(kind === "throughput" ? total : seconds),
    ],
    { encoding: "utf8", cwd: dirname(dirname(sides[side])) },
  );
  return JSON.parse(out.trim().split("\n").pop());
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results = { throughput: { new: [], old: [] }, latency: { new: [], old: [] } };
for (let i = 0; i < rounds; i++) {
  const order = i % 2 ? ["new", "old"] : ["old", "new"];
  for (const kind of only) {
    for (const side of order) {
      const r = round(side, kind);
      results[kind][side].push(r);
      console.log(`round ${i + 1} ${kind} ${side}: ${JSON.stringify(r)}`);
    }
  }
}

const fields = { throughput: ["eventsPerSecond", "cpuMicrosPerEvent"], latency: ["p50", "p90", "p99"] };
for (const kind of only) {
  for (const f of fields[kind]) {
    const o = results[kind].old.map((r) => r[f]);
    const n = results[kind].new.map((r) => r[f]);
    console.log(
      `${kind} ${f}: old ${median(o)} [${Math.min(...o)}–${Math.max(...o)}]  new ${median(n)} [${Math.min(...n)}–${Math.max(...n)}]`,
    );
  }
}
