import { describe, expect, it } from "vitest";
import { InvalidPatternError, matchesPattern, type EventPattern } from "eddy";
import { PatternIndex } from "../src/router/pattern-index.js";

/** Deterministic PRNG (mulberry32) so a failure reproduces from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TYPES = ["order.paid", "order.placed", "order.shipped", "user.created", "user.deleted", "ping"];
const SOURCES = ["/shop", "/shop/eu", "/billing", "/auth"];
const TENANTS = ["acme", "globex", "initech"];

function generators(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const chance = (p: number) => random() < p;

  function leafFor(values: readonly string[]): EventPattern[string] {
    switch (Math.floor(random() * 7)) {
      case 0:
        return [pick(values)];
      case 1:
        return [pick(values), pick(values)];
      case 2:
        return [{ prefix: pick(values).slice(0, 1 + Math.floor(random() * 6)) }];
      case 3:
        return [pick(values), { prefix: pick(values).slice(0, 3) }];
      case 4:
        return [{ "anything-but": pick(values) }];
      case 5:
        return [{ "equals-ignore-case": pick(values).toUpperCase() }];
      default:
        return [{ exists: chance(0.5) }];
    }
  }

  function dataPattern(): EventPattern {
    const data: EventPattern = {};
    if (chance(0.5))
      data.total = [{ numeric: chance(0.5) ? [">", Math.floor(random() * 200)] : [">=", 10, "<", 100] }];
    if (chance(0.3)) data.currency = chance(0.5) ? ["EUR", "USD"] : [{ "anything-but": ["EUR"] }];
    if (chance(0.2)) data.items = { sku: [pick(["A", "B", "C"])], qty: [{ numeric: [">", 1] }] };
    if (chance(0.2)) data.coupon = [{ exists: false }];
    if (chance(0.15)) data.$or = [{ vip: [true] }, { country: [{ prefix: "N" }] }];
    if (Object.keys(data).length === 0) data.total = [{ exists: true }];
    return data;
  }

  function rule(): EventPattern {
    const pattern: EventPattern = {};
    if (chance(0.8)) pattern.type = leafFor(TYPES);
    if (chance(0.4)) pattern.source = leafFor(SOURCES);
    if (chance(0.15)) pattern.tenant = [pick(TENANTS)];
    if (chance(0.1)) pattern.subject = [{ wildcard: "order/*" }];
    if (chance(0.05)) pattern.type = [1, "order.paid"];
    if (chance(0.5)) pattern.data = dataPattern();
    if (chance(0.1)) {
      pattern.$or = [
        { type: [pick(TYPES)] },
        { source: [{ prefix: "/shop" }], data: { total: [{ exists: true }] } },
      ];
    }
    if (Object.keys(pattern).length === 0) pattern.specversion = ["1.0"];
    return pattern;
  }

  function event(): Record<string, unknown> {
    const ev: Record<string, unknown> = {
      specversion: "1.0",
      id: String(Math.floor(random() * 1e6)),
      source: chance(0.9) ? pick(SOURCES) : "/other",
      type: chance(0.9) ? pick(TYPES) : pick(["order", "orders.paid", "", "Order.Paid"]),
    };
    if (chance(0.1)) ev.type = [pick(TYPES), pick(TYPES)];
    if (chance(0.05)) ev.type = 1;
    if (chance(0.3)) ev.tenant = pick(TENANTS);
    if (chance(0.3)) ev.subject = pick(["order/42", "user/7"]);
    if (chance(0.8)) {
      const data: Record<string, unknown> = { total: Math.floor(random() * 300) };
      if (chance(0.5)) data.currency = pick(["EUR", "USD", "NZD"]);
      if (chance(0.4)) {
        data.items = [
          { sku: pick(["A", "B", "C"]), qty: Math.floor(random() * 4) },
          { sku: pick(["A", "B", "C"]), qty: Math.floor(random() * 4) },
        ];
      }
      if (chance(0.2)) data.coupon = "SAVE";
      if (chance(0.3)) data.vip = chance(0.5);
      if (chance(0.3)) data.country = pick(["NZ", "NL", "FR"]);
      ev.data = data;
    }
    return ev;
  }

  return { rule, event, chance, pick };
}

/** Linear reference: every live rule, in insertion order, through matchesPattern. */
function linear(rules: Map<string, EventPattern>, event: Record<string, unknown>): string[] {
  const ids: string[] = [];
  for (const [id, pattern] of rules) if (matchesPattern(pattern, event)) ids.push(id);
  return ids;
}

describe("PatternIndex agrees with a linear scan of matchesPattern", () => {
  for (const seed of [1, 2, 3, 42, 2024]) {
    it(`seed ${seed}: add, match, remove, re-add`, () => {
      const random = rng(seed);
      const gen = generators(random);
      const index = new PatternIndex<string>();
      const live = new Map<string, EventPattern>();
      const add = (id: string, pattern: EventPattern) => {
        index.add(id, pattern, `target-of-${id}`);
        live.delete(id); // a re-added rule counts as added last
        live.set(id, pattern);
      };
      for (let i = 0; i < 400; i++) add(`r${i}`, gen.rule());
      const events = Array.from({ length: 300 }, () => gen.event());
      let matchedSomething = 0;
      const compare = () => {
        for (const event of events) {
          const expected = linear(live, event);
          expect(index.matchRuleIds(event), JSON.stringify(event)).toEqual(expected);
          expect(index.match(event)).toEqual(expected.map((id) => `target-of-${id}`));
          if (expected.length > 0) matchedSomething++;
        }
        expect(index.size).toBe(live.size);
      };
      compare();

      for (let i = 0; i < 400; i += 1 + Math.floor(random() * 3)) {
        expect(index.remove(`r${i}`)).toBe(true);
        live.delete(`r${i}`);
      }
      for (let i = 0; i < 60; i++) add(`r${Math.floor(random() * 400)}`, gen.rule());
      compare();
      expect(matchedSomething).toBeGreaterThan(100);
    });
  }
});

describe("PatternIndex", () => {
  it("returns each matching rule's target once, in insertion order", () => {
    const index = new PatternIndex<string>();
    index.add("scan", { data: { total: [{ numeric: [">", 0] }] } }, "s");
    index.add("both", { type: ["a", "b"] }, "t");
    index.add("prefix", { type: [{ prefix: "a" }, "b"] }, "p");
    index.add("source", { source: ["/x"] }, "src");
    const event = { type: ["b", "a"], source: "/x", data: { total: 1 } };
    expect(index.matchRuleIds(event)).toEqual(["scan", "both", "prefix", "source"]);
    expect(index.match(event)).toEqual(["s", "t", "p", "src"]);
  });

  it("keeps one entry per rule when rules share a target", () => {
    const index = new PatternIndex<string>();
    index.add("r1", { type: ["a"] }, "fn");
    index.add("r2", { type: [{ prefix: "a" }] }, "fn");
    expect(index.match({ type: "a" })).toEqual(["fn", "fn"]);
  });

  it("removes rules and reports unknown ids", () => {
    const index = new PatternIndex<number>();
    index.add("a", { type: ["x"] }, 1);
    index.add("b", { type: [{ prefix: "x" }] }, 2);
    index.add("c", { data: { n: [1] } }, 3);
    expect(index.size).toBe(3);
    expect(index.remove("b")).toBe(true);
    expect(index.remove("b")).toBe(false);
    expect(index.remove("nope")).toBe(false);
    expect(index.match({ type: "x", data: { n: 1 } })).toEqual([1, 3]);
    index.remove("a");
    index.remove("c");
    expect(index.size).toBe(0);
    expect(index.has("a")).toBe(false);
    expect(index.match({ type: "x", data: { n: 1 } })).toEqual([]);
  });

  it("replaces a rule added again under the same id, which then counts as added last", () => {
    const index = new PatternIndex<string>();
    index.add("a", { type: ["x"] }, "old");
    index.add("b", { type: ["x"] }, "b");
    index.add("a", { source: ["/s"] }, "new");
    expect(index.size).toBe(2);
    expect(index.match({ type: "x", source: "/s" })).toEqual(["b", "new"]);
    expect(index.match({ type: "x" })).toEqual(["b"]);
  });

  it("rejects an invalid pattern and leaves the index as it was", () => {
    const index = new PatternIndex<string>();
    index.add("a", { type: ["x"] }, "t");
    const invalid = { type: [{ numeric: [">", 10, ">", 5] }] } as unknown as EventPattern;
    expect(() => index.add("a", invalid, "u")).toThrow(InvalidPatternError);
    expect(index.size).toBe(1);
    expect(index.match({ type: "x" })).toEqual(["t"]);
  });

  it("indexes prefixes of every length, including the empty prefix", () => {
    const index = new PatternIndex<string>();
    index.add("all", { type: [{ prefix: "" }] }, "all");
    index.add("order", { type: [{ prefix: "order." }] }, "order");
    index.add("exact", { type: ["order.paid"] }, "exact");
    expect(index.match({ type: "order.paid" })).toEqual(["all", "order", "exact"]);
    expect(index.match({ type: "order." })).toEqual(["all", "order"]);
    expect(index.match({ type: "orders" })).toEqual(["all"]);
    expect(index.match({ type: 5 })).toEqual([]);
    index.remove("order");
    expect(index.match({ type: "order.paid" })).toEqual(["all", "exact"]);
  });

  it("does not read inherited properties of the event", () => {
    const index = new PatternIndex<string>();
    index.add("c", { constructor: ["x"] }, "c");
    expect(index.match({})).toEqual([]);
    expect(index.match(JSON.parse('{"constructor": "x"}') as Record<string, unknown>)).toEqual(["c"]);
  });

  it("handles many rules per type", () => {
    const index = new PatternIndex<number>();
    for (let i = 0; i < 2000; i++) index.add(`r${i}`, { type: [`t${i % 50}`], data: { n: [i] } }, i);
    expect(index.match({ type: "t7", data: { n: 1007 } })).toEqual([1007]);
    expect(index.match({ type: "t8", data: { n: 1007 } })).toEqual([]);
  });
});
