// Router benchmark: cost of finding the rules that match an event with the compiled PatternIndex
// of @eddy/server, against a linear scan of matchesPattern over every rule, at 1,000 and 10,000
// rules. Run `npm run build` first; then `node bench/router.js` prints a table and the figures as
// JSON, and `runRouterBench()` returns them to a caller. About 10 s on two cores.
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { matchesPattern } from "eddy";
import { PatternIndex } from "@eddy/server";

const DOMAINS = [
  "order",
  "payment",
  "user",
  "cart",
  "invoice",
  "shipment",
  "stock",
  "review",
  "coupon",
  "email",
  "refund",
  "catalog",
  "search",
  "session",
  "device",
  "report",
  "ticket",
  "subscription",
  "plan",
  "audit",
];
const ENTITIES = ["item", "account", "batch", "session", "record", "note", "line", "price", "tag", "file"];
const VERBS = ["created", "updated", "deleted", "failed", "archived"];
// 1,000 event types such as "order.item.created", 100 sources such as "/svc/order/0".
const TYPES = DOMAINS.flatMap((d) => ENTITIES.flatMap((e) => VERBS.map((v) => `${d}.${e}.${v}`)));
const SOURCES = Array.from({ length: 100 }, (_, i) => `/svc/${DOMAINS[i % DOMAINS.length]}/${i}`);
const STATUSES = ["new", "active", "closed", "error"];
const COUNTRIES = ["NZ", "NL", "FR", "US", "JP", "BR"];

/** Deterministic PRNG (mulberry32): the same rules and events on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic rule mix: mostly exact types, some data conditions, prefixes, anything-but, ~3% scan rules. */
function makeRules(count, random) {
  const pick = (items) => items[Math.floor(random() * items.length)];
  const dataCondition = () =>
    random() < 0.5
      ? { amount: [{ numeric: [">", Math.floor(random() * 900)] }] }
      : { status: [pick(STATUSES)], country: [{ "anything-but": [pick(COUNTRIES)] }] };
  const rules = [];
  for (let i = 0; i < count; i++) {
    const r = random();
    let pattern;
    if (r < 0.5) {
      pattern = { type: [pick(TYPES)] };
      if (random() < 0.5) pattern.data = dataCondition();
    } else if (r < 0.65) {
      pattern = { type: [pick(TYPES), pick(TYPES)], data: { status: [{ "anything-but": "closed" }] } };
    } else if (r < 0.77) {
      const [d, e] = pick(TYPES).split(".");
      pattern = { type: [{ prefix: `${d}.${e}.` }], source: [pick(SOURCES)] };
    } else if (r < 0.87) {
      pattern = { source: [pick(SOURCES)], type: [{ "anything-but": { prefix: "review." } }] };
    } else if (r < 0.97) {
      pattern = { type: [{ prefix: `${pick(DOMAINS)}.` }], data: dataCondition() };
    } else {
      // Scan rules: nothing indexable at the top level.
      pattern =
        random() < 0.5
          ? { data: { amount: [{ numeric: [">", 990] }], country: [pick(COUNTRIES)] } }
          : { type: [{ "equals-ignore-case": pick(TYPES).toUpperCase() }], data: { status: ["error"] } };
    }
    rules.push({ id: `rule-${i}`, pattern, target: `fn-${i % 500}` });
  }
  return rules;
}

function makeEvents(count, random) {
  const pick = (items) => items[Math.floor(random() * items.length)];
  return Array.from({ length: count }, (_, i) => ({
    specversion: "1.0",
    id: `evt-${i}`,
    source: pick(SOURCES),
    type: pick(TYPES),
    time: "2024-05-01T10:00:00Z",
    datacontenttype: "application/json",
    data: {
      amount: Math.floor(random() * 1000),
      status: pick(STATUSES),
      country: pick(COUNTRIES),
      items: [{ sku: `S${Math.floor(random() * 100)}`, qty: 1 + Math.floor(random() * 3) }],
    },
  }));
}

/** Runs `fn` over all events repeatedly for about `targetMs`; returns ns per event. */
function measure(events, fn, targetMs) {
  let sink = 0;
  for (const e of events) sink += fn(e); // warm-up and calibration pass
  const start = performance.now();
  for (const e of events) sink += fn(e);
  const onePass = Math.max(performance.now() - start, 0.01);
  const passes = Math.max(1, Math.round(targetMs / onePass));
  const t0 = performance.now();
  for (let p = 0; p < passes; p++) for (const e of events) sink += fn(e);
  const elapsed = performance.now() - t0;
  if (sink === -1) console.log(sink); // keeps the work observable
  return (elapsed * 1e6) / (passes * events.length);
}

/**
 * Measures the index and the linear scan at 1,000 and 10,000 rules and returns the figures.
 * `targetMs` is the measuring time per figure (four figures), `print` also prints the table.
 *
 * @param {{ print?: boolean, targetMs?: number }} [options]
 * @example
 * const { results } = await runRouterBench();
 * results[1].index.nsPerOp; // ns to route one event among 10,000 rules
 */
export async function runRouterBench({ print = false, targetMs = 1500 } = {}) {
  const random = rng(7);
  const allRules = makeRules(10_000, random);
  const events = makeEvents(1_000, random);
  const results = [];
  for (const count of [1_000, 10_000]) {
    const rules = allRules.slice(0, count);
    const index = new PatternIndex();
    const buildStart = performance.now();
    for (const r of rules) index.add(r.id, r.pattern, r.target);
    const buildMs = performance.now() - buildStart;
    const linear = (event) => {
      let n = 0;
      for (const r of rules) if (matchesPattern(r.pattern, event)) n++;
      return n;
    };
    // Both must find the same rules before their speed means anything.
    let matches = 0;
    for (const e of events) {
      const ids = index.matchRuleIds(e);
      const expected = rules.filter((r) => matchesPattern(r.pattern, e)).map((r) => r.id);
      if (ids.join() !== expected.join()) throw new Error(`index and linear scan disagree on ${e.id}`);
      matches += ids.length;
    }
    const indexNs = measure(events, (e) => index.match(e).length, targetMs);
    const linearNs = measure(events, linear, targetMs);
    const matchesPerEvent = matches / events.length;
    results.push({
      rules: count,
      scanRules: index.stats().scanRules,
      buildMs: round(buildMs),
      avgMatchesPerEvent: round(matchesPerEvent),
      index: {
        nsPerOp: round(indexNs),
        opsPerSec: Math.round(1e9 / indexNs),
        nsPerMatch: round(indexNs / Math.max(matchesPerEvent, 1)),
      },
      linear: { nsPerOp: round(linearNs), opsPerSec: Math.round(1e9 / linearNs) },
      speedup: round(linearNs / indexNs),
    });
  }
  const report = { name: "router", node: process.version, events: events.length, results };
  if (print) printTable(report);
  return report;
}

function round(n) {
  return Math.round(n * 10) / 10;
}

function printTable({ results }) {
  const rows = [
    [
      "rules",
      "scan rules",
      "matches/event",
      "index ns/op",
      "index ops/s",
      "index ns/match",
      "linear ns/op",
      "linear ops/s",
      "speed-up",
    ],
    ...results.map((r) => [
      r.rules,
      r.scanRules,
      r.avgMatchesPerEvent,
      r.index.nsPerOp,
      r.index.opsPerSec,
      r.index.nsPerMatch,
      r.linear.nsPerOp,
      r.linear.opsPerSec,
      `${r.speedup}x`,
    ]),
  ].map((row) => row.map(String));
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  for (const row of rows) console.log(row.map((cell, c) => cell.padStart(widths[c])).join("  "));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const report = await runRouterBench({ print: true });
  console.log(JSON.stringify(report));
}
