// Edge cases of each operator, following aws/event-ruler (the implementation behind EventBridge).
import { describe, expect, it } from "vitest";
import { compilePattern, matchesPattern, type EventPattern } from "../src/patterns/index.js";

/** Matches `value` as the only field `f` of an event against `[matcher...]`. */
function leaf(matchers: EventPattern[string], value: unknown): boolean {
  const event = value === undefined ? {} : { f: value };
  return matchesPattern({ f: matchers } as EventPattern, event);
}

describe("exact values", () => {
  it("types must agree: strings match strings, numbers numbers", () => {
    expect(leaf(["5"], 5)).toBe(false);
    expect(leaf([5], "5")).toBe(false);
    expect(leaf([true], "true")).toBe(false);
    expect(leaf([null], "null")).toBe(false);
    expect(leaf([true], true)).toBe(true);
    expect(leaf([false], false)).toBe(true);
    expect(leaf([false], 0)).toBe(false);
  });

  it("null matches only a JSON null, not an absent field", () => {
    expect(leaf([null], null)).toBe(true);
    expect(leaf([null], undefined)).toBe(false);
    expect(leaf([null], "")).toBe(false);
  });

  it('[""] matches only the empty string', () => {
    expect(leaf([""], "")).toBe(true);
    expect(leaf([""], null)).toBe(false);
    expect(leaf([""], undefined)).toBe(false);
    expect(leaf([""], " ")).toBe(false);
  });

  it("numbers compare numerically (event-ruler adds a numeric-equality matcher)", () => {
    expect(leaf([300], 300.0)).toBe(true);
    expect(leaf([300], 3e2)).toBe(true);
    expect(leaf([0], -0)).toBe(true);
    expect(leaf([0.3], 0.1 + 0.2)).toBe(true);
    expect(leaf([1.5], 1.5000001)).toBe(false);
  });

  it("numbers beyond the numeric range still match exactly (account ids)", () => {
    expect(leaf([123456789012], 123456789012)).toBe(true);
    expect(leaf([123456789012], 123456789013)).toBe(false);
  });

  it("an event array matches when any element does, nested arrays included", () => {
    expect(leaf(["a"], ["b", "a"])).toBe(true);
    expect(leaf(["a"], [["b"], ["a"]])).toBe(true);
    expect(leaf(["a"], [])).toBe(false);
    expect(leaf(["a"], ["b", "c"])).toBe(false);
    expect(leaf(["a"], [{ x: "a" }])).toBe(false);
  });

  it("an object is not a leaf value", () => {
    expect(leaf(["a"], { a: "a" })).toBe(false);
    expect(leaf([null], {})).toBe(false);
  });

  it("case and whitespace are significant", () => {
    expect(leaf(["Order"], "order")).toBe(false);
    expect(leaf(["order"], "order ")).toBe(false);
  });
});

describe("prefix and suffix", () => {
  it("only match strings", () => {
    expect(leaf([{ prefix: "1" }], 12)).toBe(false);
    expect(leaf([{ suffix: "e" }], true)).toBe(false);
    expect(leaf([{ prefix: "n" }], null)).toBe(false);
  });

  it("an empty prefix or suffix matches every string", () => {
    expect(leaf([{ prefix: "" }], "")).toBe(true);
    expect(leaf([{ suffix: "" }], "anything")).toBe(true);
  });

  it("match elements of arrays", () => {
    expect(leaf([{ prefix: "us-" }], ["eu-west-1", "us-east-1"])).toBe(true);
    expect(leaf([{ suffix: ".png" }], ["a.jpg", "b.gif"])).toBe(false);
  });

  it("equals-ignore-case variants ignore case on both sides", () => {
    expect(leaf([{ prefix: { "equals-ignore-case": "eventb" } }], "EventBridge")).toBe(true);
    expect(leaf([{ prefix: { "equals-ignore-case": "EVENTB" } }], "eventbridge")).toBe(true);
    expect(leaf([{ prefix: { "equals-ignore-case": "eventb" } }], "SQS")).toBe(false);
    expect(leaf([{ suffix: { "equals-ignore-case": "tBridge" } }], "EVENTBRIDGE")).toBe(true);
    expect(leaf([{ suffix: { "equals-ignore-case": ".png" } }], 5)).toBe(false);
  });
});

describe("equals-ignore-case", () => {
  it("compares case-insensitively, strings only", () => {
    expect(leaf([{ "equals-ignore-case": "alice" }], "ALICE")).toBe(true);
    expect(leaf([{ "equals-ignore-case": "école" }], "ÉCOLE")).toBe(true);
    expect(leaf([{ "equals-ignore-case": "alice" }], "alicia")).toBe(false);
    expect(leaf([{ "equals-ignore-case": "true" }], true)).toBe(false);
    expect(leaf([{ "equals-ignore-case": "" }], "")).toBe(true);
  });
});

describe("wildcard", () => {
  it("* matches any run of characters, including none", () => {
    expect(leaf([{ wildcard: "*" }], "")).toBe(true);
    expect(leaf([{ wildcard: "*" }], "anything\nat all")).toBe(true);
    expect(leaf([{ wildcard: "a*" }], "a")).toBe(true);
    expect(leaf([{ wildcard: "*a" }], "ba")).toBe(true);
    expect(leaf([{ wildcard: "a*b*c" }], "aXXbYYc")).toBe(true);
    expect(leaf([{ wildcard: "a*b*c" }], "acb")).toBe(false);
    expect(leaf([{ wildcard: "abc" }], "abc")).toBe(true);
    expect(leaf([{ wildcard: "abc" }], "abcd")).toBe(false);
  });

  it("pieces may not overlap", () => {
    expect(leaf([{ wildcard: "ab*ba" }], "aba")).toBe(false);
    expect(leaf([{ wildcard: "ab*ba" }], "abba")).toBe(true);
    expect(leaf([{ wildcard: "a*a*a" }], "aa")).toBe(false);
    expect(leaf([{ wildcard: "a*a*a" }], "aaa")).toBe(true);
    expect(leaf([{ wildcard: "*ab*b" }], "ab")).toBe(false);
  });

  it("\\* is a literal asterisk and \\\\ a literal backslash", () => {
    expect(leaf([{ wildcard: "a\\*b" }], "a*b")).toBe(true);
    expect(leaf([{ wildcard: "a\\*b" }], "axb")).toBe(false);
    expect(leaf([{ wildcard: "dir\\\\*" }], "dir\\file")).toBe(true);
    expect(leaf([{ wildcard: "\\**" }], "*star")).toBe(true);
    expect(leaf([{ wildcard: "\\**" }], "star")).toBe(false);
  });

  it("only matches strings", () => {
    expect(leaf([{ wildcard: "*" }], 1)).toBe(false);
    expect(leaf([{ wildcard: "*" }], null)).toBe(false);
  });

  it("is case-sensitive", () => {
    expect(leaf([{ wildcard: "*.PNG" }], "a.png")).toBe(false);
  });
});

describe("anything-but", () => {
  it("never matches an absent field or an object", () => {
    expect(leaf([{ "anything-but": "x" }], undefined)).toBe(false);
    expect(leaf([{ "anything-but": "x" }], { y: 1 })).toBe(false);
    expect(leaf([{ "anything-but": "x" }], [])).toBe(false);
  });

  it("matches leaf values of any other type (event-ruler ByteMachine)", () => {
    expect(leaf([{ "anything-but": "x" }], 5)).toBe(true);
    expect(leaf([{ "anything-but": "x" }], null)).toBe(true);
    expect(leaf([{ "anything-but": "x" }], true)).toBe(true);
    expect(leaf([{ "anything-but": [100, 200] }], "100")).toBe(true);
    expect(leaf([{ "anything-but": { prefix: "init" } }], 3)).toBe(true);
  });

  it("excludes numbers by numeric value", () => {
    expect(leaf([{ "anything-but": 100 }], 100.0)).toBe(false);
    expect(leaf([{ "anything-but": [100, 200] }], 2e2)).toBe(false);
    expect(leaf([{ "anything-but": [100, 200] }], 150)).toBe(true);
    // Not comparable (out of range): cannot equal an excluded number.
    expect(leaf([{ "anything-but": [100] }], 1e10)).toBe(true);
  });

  it("on an array, matches when any element is not excluded", () => {
    expect(leaf([{ "anything-but": "stopped" }], ["stopped", "running"])).toBe(true);
    expect(leaf([{ "anything-but": "stopped" }], ["stopped"])).toBe(false);
    expect(leaf([{ "anything-but": ["a", "b"] }], ["a", "b"])).toBe(false);
  });

  it("prefix and suffix forms", () => {
    expect(leaf([{ "anything-but": { prefix: "us-" } }], "eu-west-1")).toBe(true);
    expect(leaf([{ "anything-but": { prefix: "us-" } }], "us-east-1")).toBe(false);
    expect(leaf([{ "anything-but": { prefix: "us-" } }], "")).toBe(true);
    expect(leaf([{ "anything-but": { suffix: ".png" } }], "a.PNG")).toBe(true);
    expect(leaf([{ "anything-but": { suffix: ".png" } }], "a.png")).toBe(false);
  });

  it("equals-ignore-case and wildcard forms, single or list", () => {
    expect(leaf([{ "anything-but": { "equals-ignore-case": "Stopped" } }], "STOPPED")).toBe(false);
    expect(leaf([{ "anything-but": { "equals-ignore-case": ["a", "B"] } }], "b")).toBe(false);
    expect(leaf([{ "anything-but": { "equals-ignore-case": ["a", "B"] } }], "c")).toBe(true);
    expect(leaf([{ "anything-but": { wildcard: "*/lib/*" } }], "/usr/bin/x")).toBe(true);
    expect(leaf([{ "anything-but": { wildcard: ["*.png", "*.jpg"] } }], "a.jpg")).toBe(false);
    expect(leaf([{ "anything-but": { wildcard: "*" } }], 7)).toBe(true);
  });

  it("alternatives still OR: two anything-buts on one field match everything present", () => {
    expect(leaf([{ "anything-but": "a" }, { "anything-but": "b" }], "a")).toBe(true);
  });
});

describe("numeric", () => {
  it("only matches JSON numbers", () => {
    expect(leaf([{ numeric: [">", 0] }], "5")).toBe(false);
    expect(leaf([{ numeric: [">", 0] }], true)).toBe(false);
    expect(leaf([{ numeric: ["<", 1] }], null)).toBe(false);
    expect(leaf([{ numeric: [">", 0] }], undefined)).toBe(false);
  });

  it("honours open and closed bounds", () => {
    expect(leaf([{ numeric: [">", 0] }], 0)).toBe(false);
    expect(leaf([{ numeric: [">=", 0] }], 0)).toBe(true);
    expect(leaf([{ numeric: ["<", 10] }], 10)).toBe(false);
    expect(leaf([{ numeric: ["<=", 10] }], 10)).toBe(true);
    expect(leaf([{ numeric: [">", 0, "<", 1] }], 0.5)).toBe(true);
    expect(leaf([{ numeric: [">=", -1.5, "<=", -0.5] }], -1.5)).toBe(true);
    expect(leaf([{ numeric: ["=", 3.018e2] }], 301.8)).toBe(true);
    expect(leaf([{ numeric: ["=", 0] }], -0)).toBe(true);
  });

  it("compares to six decimal places", () => {
    expect(leaf([{ numeric: [">", 1] }], 1.000001)).toBe(true);
    expect(leaf([{ numeric: ["=", 0.3] }], 0.1 + 0.2)).toBe(true);
    expect(leaf([{ numeric: [">", 4.35] }], 4.350001)).toBe(true);
    expect(leaf([{ numeric: ["<=", 4.35] }], 4.35)).toBe(true);
  });

  it("event numbers EventBridge cannot compare match no numeric condition", () => {
    // Outside [-5e9, 5e9] (ComparableNumber refuses them), even when the comparison holds.
    expect(leaf([{ numeric: [">", 0] }], 6e9)).toBe(false);
    expect(leaf([{ numeric: ["<", 0] }], -6e9)).toBe(false);
    expect(leaf([{ numeric: [">", 0] }], 5e9)).toBe(true);
    expect(leaf([{ numeric: ["<", 0] }], -5e9)).toBe(true);
    // More than six decimals: current event-ruler refuses them rather than truncating.
    expect(leaf([{ numeric: [">", 1] }], 1.0000001)).toBe(false);
    expect(leaf([{ numeric: [">", 0] }], 1e-7)).toBe(false);
  });

  it("matches when any array element is in range", () => {
    expect(leaf([{ numeric: [">", 10] }], [5, 50])).toBe(true);
    expect(leaf([{ numeric: [">", 10] }], [5, "50"])).toBe(false);
  });

  it("bounds at the edge of the range are allowed", () => {
    expect(leaf([{ numeric: [">=", -5e9, "<=", 5e9] }], 0)).toBe(true);
    expect(leaf([{ numeric: ["<", 5e9] }], 4999999999.999999)).toBe(true);
  });
});

describe("exists", () => {
  const yes = (v: unknown) => leaf([{ exists: true }], v);
  const no = (v: unknown) => leaf([{ exists: false }], v);

  it("true matches any leaf value, null, empty string and false included", () => {
    for (const v of [null, "", 0, false, "x", [1], [null], [[2]]]) expect(yes(v)).toBe(true);
  });

  it("true does not match an absent field, an object or an array without leaf values", () => {
    for (const v of [undefined, {}, { a: 1 }, [], [{ a: 1 }], [[]]]) expect(yes(v)).toBe(false);
  });

  it("false is the exact opposite", () => {
    for (const v of [null, "", 0, false, "x", [1], [null], [[2]]]) expect(no(v)).toBe(false);
    for (const v of [undefined, {}, { a: 1 }, [], [{ a: 1 }], [[]]]) expect(no(v)).toBe(true);
  });

  it("false on a nested field holds when a parent is missing or not an object", () => {
    const pattern: EventPattern = { a: { b: [{ exists: false }] } };
    expect(matchesPattern(pattern, {})).toBe(true);
    expect(matchesPattern(pattern, { a: 5 })).toBe(true);
    expect(matchesPattern(pattern, { a: null })).toBe(true);
    expect(matchesPattern(pattern, { a: { c: 1 } })).toBe(true);
    expect(matchesPattern(pattern, { a: { b: 1 } })).toBe(false);
    expect(matchesPattern(pattern, { a: { b: null } })).toBe(false);
  });

  it("false alone under an array of objects means no element has the field", () => {
    const pattern: EventPattern = { items: { discount: [{ exists: false }] } };
    expect(matchesPattern(pattern, { items: [{ sku: 1 }, { sku: 2 }] })).toBe(true);
    expect(matchesPattern(pattern, { items: [{ sku: 1 }, { sku: 2, discount: 5 }] })).toBe(false);
    expect(matchesPattern(pattern, { items: [] })).toBe(true);
  });

  it("false beside other fields is judged in the element they match (event-ruler)", () => {
    const withSku: EventPattern = { items: { sku: [1], discount: [{ exists: false }] } };
    expect(matchesPattern(withSku, { items: [{ sku: 1 }, { sku: 2, discount: 5 }] })).toBe(true);
    expect(matchesPattern(withSku, { items: [{ sku: 1, discount: 5 }, { sku: 2 }] })).toBe(false);
    expect(matchesPattern(withSku, { items: [[{ sku: 1, discount: 5 }], [{ sku: 1 }]] })).toBe(true);
  });

  it("combines with values: [false, { exists: false }] is false-or-missing", () => {
    const pattern: EventPattern = { flag: [false, { exists: false }] };
    expect(matchesPattern(pattern, {})).toBe(true);
    expect(matchesPattern(pattern, { flag: false })).toBe(true);
    expect(matchesPattern(pattern, { flag: true })).toBe(false);
  });
});

describe("cidr", () => {
  it("IPv4", () => {
    expect(leaf([{ cidr: "10.0.0.0/24" }], "10.0.0.255")).toBe(true);
    expect(leaf([{ cidr: "10.0.0.0/24" }], "10.0.1.0")).toBe(false);
    expect(leaf([{ cidr: "10.0.0.0/8" }], "10.255.3.4")).toBe(true);
    expect(leaf([{ cidr: "172.16.0.0/12" }], "172.31.255.255")).toBe(true);
    expect(leaf([{ cidr: "172.16.0.0/12" }], "172.32.0.0")).toBe(false);
    expect(leaf([{ cidr: "0.0.0.0/0" }], "255.255.255.255")).toBe(true);
    expect(leaf([{ cidr: "192.168.1.128/25" }], "192.168.1.127")).toBe(false);
    // Host bits set: the masked block, as event-ruler matches it.
    expect(leaf([{ cidr: "220.160.154.255/24" }], "220.160.154.0")).toBe(true);
    expect(leaf([{ cidr: "220.160.153.171/31" }], "220.160.153.170")).toBe(true);
    expect(leaf([{ cidr: "220.160.153.171/31" }], "220.160.153.172")).toBe(false);
    expect(leaf([{ cidr: "2001:db8::1/64" }], "2001:db8::ffff")).toBe(true);
  });

  it("values that are not addresses never match", () => {
    for (const v of ["10.0.0.256", "010.0.0.1", "10.0.0", "10.0.0.1 ", "host", 167772161, null]) {
      expect(leaf([{ cidr: "0.0.0.0/0" }], v)).toBe(false);
    }
  });

  it("IPv6, in any spelling", () => {
    expect(leaf([{ cidr: "2001:db8::/32" }], "2001:db8::1")).toBe(true);
    expect(leaf([{ cidr: "2001:db8::/32" }], "2001:0DB8:0000:0000:0000:0000:0000:0001")).toBe(true);
    expect(leaf([{ cidr: "2001:db8::/32" }], "2001:db9::1")).toBe(false);
    expect(leaf([{ cidr: "fe80::/10" }], "febf:ffff::1")).toBe(true);
    expect(leaf([{ cidr: "fe80::/10" }], "fec0::1")).toBe(false);
    expect(leaf([{ cidr: "::/0" }], "::")).toBe(true);
    expect(leaf([{ cidr: "::/0" }], "::1")).toBe(true);
    expect(leaf([{ cidr: "2001:db8:1:2::/64" }], "2001:db8:1:2:ffff:ffff:ffff:ffff")).toBe(true);
    expect(leaf([{ cidr: "2001:db8::/32" }], "2001:db8::1::2")).toBe(false);
    expect(leaf([{ cidr: "2001:db8::/32" }], "2001:db8:0:0:0:0:0:0:1")).toBe(false);
  });

  it("does not mix versions", () => {
    expect(leaf([{ cidr: "::/0" }], "1.2.3.4")).toBe(false);
    expect(leaf([{ cidr: "0.0.0.0/0" }], "::1")).toBe(false);
    // Dotted IPv4 tails are not parsed (event-ruler's IPv6 regex has no dots).
    expect(leaf([{ cidr: "::/0" }], "::ffff:10.0.0.1")).toBe(false);
  });
});

describe("structure", () => {
  it("array consistency: one element must satisfy the whole nested pattern", () => {
    const pattern: EventPattern = { items: { sku: ["A"], qty: [{ numeric: [">", 1] }] } };
    expect(
      matchesPattern(pattern, {
        items: [
          { sku: "A", qty: 1 },
          { sku: "B", qty: 5 },
        ],
      }),
    ).toBe(false);
    expect(
      matchesPattern(pattern, {
        items: [
          { sku: "B", qty: 1 },
          { sku: "A", qty: 5 },
        ],
      }),
    ).toBe(true);
  });

  it("$or inside an array element is evaluated within that element", () => {
    const pattern: EventPattern = { items: { a: [3], $or: [{ b: [2] }, { c: [1] }] } };
    expect(matchesPattern(pattern, { items: [{ a: 1, b: 2 }, { a: 3 }] })).toBe(false);
    expect(
      matchesPattern(pattern, {
        items: [
          { a: 1, b: 2 },
          { a: 3, c: 1 },
        ],
      }),
    ).toBe(true);
  });

  it("$or nests anywhere an object does", () => {
    const pattern: EventPattern = {
      type: ["order.paid"],
      data: {
        $or: [{ total: [{ numeric: [">", 100] }] }, { $or: [{ vip: [true] }, { country: ["NZ"] }] }],
      },
    };
    const event = (data: unknown) => ({ type: "order.paid", data });
    expect(matchesPattern(pattern, event({ total: 150 }))).toBe(true);
    expect(matchesPattern(pattern, event({ total: 50, country: "NZ" }))).toBe(true);
    expect(matchesPattern(pattern, event({ total: 50, vip: false }))).toBe(false);
  });

  it("several $or alternatives may match at once", () => {
    expect(matchesPattern({ $or: [{ a: [1] }, { b: [2] }] }, { a: 1, b: 2 })).toBe(true);
  });

  it("a nested pattern does not match a scalar", () => {
    expect(matchesPattern({ data: { total: [1] } }, { data: 1 })).toBe(false);
    expect(matchesPattern({ data: { total: [1] } }, { data: '{"total":1}' })).toBe(false);
  });

  it("an event that is not an object only matches absence", () => {
    for (const event of [null, undefined, "x", 5, []]) {
      expect(matchesPattern({ a: [{ exists: false }] }, event)).toBe(true);
      expect(matchesPattern({ a: [{ exists: true }] }, event)).toBe(false);
    }
  });

  it("does not read inherited properties", () => {
    expect(matchesPattern({ constructor: [{ exists: false }] }, {})).toBe(true);
    expect(matchesPattern({ toString: [{ exists: true }] }, {})).toBe(false);
    const fromJson = JSON.parse('{"__proto__": [{"exists": true}]}') as EventPattern;
    expect(matchesPattern(fromJson, {})).toBe(false);
    expect(matchesPattern(fromJson, JSON.parse('{"__proto__": 1}'))).toBe(true);
    expect(matchesPattern({ constructor: ["x"] }, { constructor: "x" })).toBe(true);
  });

  it("works on null-prototype events", () => {
    const event = Object.assign(Object.create(null) as object, { type: "a", data: { n: 1 } });
    expect(matchesPattern({ type: ["a"], data: { n: [1] } }, event)).toBe(true);
  });

  it("ignores fields the pattern does not name", () => {
    expect(matchesPattern({ type: ["a"] }, { type: "a", extra: { deep: [1, 2, 3] } })).toBe(true);
  });
});

describe("compilePattern and matchesPattern", () => {
  it("compilePattern snapshots the pattern", () => {
    const pattern = { type: ["a"] as string[] };
    const matcher = compilePattern(pattern);
    pattern.type[0] = "b";
    expect(matcher({ type: "a" })).toBe(true);
    expect(matcher({ type: "b" })).toBe(false);
  });

  it("matchesPattern reuses the compiled pattern for the same object", () => {
    const pattern: EventPattern = { type: [{ prefix: "order." }] };
    for (let i = 0; i < 3; i++) expect(matchesPattern(pattern, { type: `order.${i}` })).toBe(true);
  });

  it("both reject invalid patterns", () => {
    expect(() => compilePattern({ type: [] })).toThrow(/empty array/);
    expect(() => matchesPattern({ type: "x" } as unknown as EventPattern, {})).toThrow(/expected an array/);
  });
});
