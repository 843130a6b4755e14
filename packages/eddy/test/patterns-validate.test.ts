// validatePattern: every rejection names the path from the root and what was expected.
import { describe, expect, it } from "vitest";
import { InvalidPatternError } from "../src/errors.js";
import { validatePattern } from "../src/patterns/index.js";
import { PATTERN_LIMITS } from "../src/patterns/limits.js";

/** Validates `pattern` and returns the error it throws (failing the test if none). */
function rejection(pattern: unknown): InvalidPatternError {
  try {
    validatePattern(pattern);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidPatternError);
    return err as InvalidPatternError;
  }
  throw new Error(`expected ${JSON.stringify(pattern)} to be rejected`);
}

interface Case {
  name: string;
  pattern: unknown;
  path: string;
  message: RegExp;
}

function check(cases: Case[]): void {
  it.each(cases)("$name", ({ pattern, path, message }) => {
    const err = rejection(pattern);
    expect(err.path).toBe(path);
    expect(err.message).toMatch(message);
    expect(err.message.startsWith(path === "" ? err.message : `${path}: `)).toBe(true);
  });
}

describe("the error", () => {
  it("carries the code, the path and a message prefixed with the path", () => {
    const err = rejection({ data: { total: [{ numerc: [">", 100] }] } });
    expect(err.code).toBe("EDDY_INVALID_PATTERN");
    expect(err.name).toBe("InvalidPatternError");
    expect(err.path).toBe("data.total[0]");
    expect(err.message).toBe(
      'data.total[0]: unknown operator "numerc"; expected one of prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard, cidr',
    );
  });
});

describe("pattern objects", () => {
  check([
    { name: "null", pattern: null, path: "", message: /must be a JSON object/ },
    { name: "an array", pattern: [{ type: ["a"] }], path: "", message: /must be a JSON object/ },
    { name: "a string", pattern: '{"type":["a"]}', path: "", message: /must be a JSON object/ },
    { name: "a Date", pattern: new Date(0), path: "", message: /must be a JSON object/ },
    { name: "an empty pattern", pattern: {}, path: "", message: /empty object/ },
    { name: "an empty nested object", pattern: { data: {} }, path: "data", message: /empty object/ },
    {
      name: "a bare string leaf",
      pattern: { type: "order.paid" },
      path: "type",
      message: /expected an array/,
    },
    {
      name: "a bare number leaf",
      pattern: { data: { n: 1 } },
      path: "data.n",
      message: /always arrays, e\.g\. \[1\]/,
    },
    { name: "an undefined leaf", pattern: { type: undefined }, path: "type", message: /got undefined/ },
    { name: "a null leaf", pattern: { type: null }, path: "type", message: /got null/ },
    {
      name: "an operator written without brackets",
      pattern: { data: { total: { exists: true } } },
      path: "data.total.exists",
      message: /write "field": \[\{ "exists": true \}\]/,
    },
    { name: "an empty leaf array", pattern: { type: [] }, path: "type", message: /empty array/ },
    {
      name: "a nested array value",
      pattern: { type: [["a"]] },
      path: "type[0]",
      message: /nested arrays are not allowed/,
    },
    { name: "an undefined value", pattern: { type: [undefined] }, path: "type[0]", message: /got undefined/ },
    { name: "NaN", pattern: { n: [NaN] }, path: "n[0]", message: /not a JSON number/ },
    { name: "Infinity", pattern: { n: [Infinity] }, path: "n[0]", message: /not a JSON number/ },
    { name: "a bigint", pattern: { n: [1n] }, path: "n[0]", message: /got 1n/ },
    {
      name: "keys with dots in brackets",
      pattern: { data: { "a.b": 1 } },
      path: 'data["a.b"]',
      message: /array/,
    },
    {
      name: "keys with spaces in brackets",
      pattern: { "my key": [] },
      path: '["my key"]',
      message: /empty array/,
    },
  ]);
});

describe("matcher objects", () => {
  check([
    {
      name: "an empty operator object",
      pattern: { a: [{}] },
      path: "a[0]",
      message: /empty operator object/,
    },
    {
      name: "two operators in one object",
      pattern: { a: [{ prefix: "a", suffix: "b" }] },
      path: "a[0]",
      message: /exactly one operator, got "prefix", "suffix"/,
    },
    {
      name: "exactly (event-ruler only)",
      pattern: { a: [{ exactly: "x" }] },
      path: "a[0]",
      message: /unknown operator "exactly"/,
    },
    { name: "prefix with a number", pattern: { a: [{ prefix: 5 }] }, path: "a[0].prefix", message: /string/ },
    {
      name: "prefix with a list",
      pattern: { a: [{ prefix: ["a"] }] },
      path: "a[0].prefix",
      message: /string/,
    },
    {
      name: "prefix with an unknown option",
      pattern: { a: [{ prefix: { wildcard: "a" } }] },
      path: "a[0].prefix",
      message: /equals-ignore-case/,
    },
    {
      name: "suffix ignoring case with a number",
      pattern: { a: [{ suffix: { "equals-ignore-case": 5 } }] },
      path: "a[0].suffix.equals-ignore-case",
      message: /takes a string, got 5/,
    },
    {
      name: "equals-ignore-case with a list",
      pattern: { a: [{ "equals-ignore-case": ["a"] }] },
      path: "a[0].equals-ignore-case",
      message: /takes a string/,
    },
    {
      name: "exists with a string",
      pattern: { a: [{ exists: "true" }] },
      path: "a[0].exists",
      message: /true or false/,
    },
    { name: "exists with 1", pattern: { a: [{ exists: 1 }] }, path: "a[0].exists", message: /true or false/ },
  ]);
});

describe("numeric", () => {
  const at = "data.total[0].numeric";
  const num = (operand: unknown) => ({ data: { total: [{ numeric: operand }] } });
  check([
    { name: "not an array", pattern: num(">5"), path: at, message: /takes an array/ },
    { name: "empty", pattern: num([]), path: at, message: /got 0 elements/ },
    { name: "three elements", pattern: num([">", 1, "<"]), path: at, message: /got 3 elements/ },
    {
      name: "unknown comparison",
      pattern: num(["=>", 1]),
      path: at,
      message: /comparison operator .* got "=>"/,
    },
    { name: "a number first", pattern: num([5, ">"]), path: at, message: /at position 0, got 5/ },
    { name: "a string bound", pattern: num([">", "5"]), path: at, message: /number at position 1, got "5"/ },
    { name: "a null bound", pattern: num(["<", null]), path: at, message: /number at position 1, got null/ },
    { name: "two lower bounds", pattern: num([">", 10, ">", 5]), path: at, message: /must be "<" or "<="/ },
    {
      name: "upper bound first",
      pattern: num(["<", 10, ">", 5]),
      path: at,
      message: /starts with its lower bound/,
    },
    { name: "= with a second comparison", pattern: num(["=", 1, "<", 5]), path: at, message: /lower bound/ },
    { name: "an inverted range", pattern: num([">", 10, "<", 5]), path: at, message: /empty range.*10.*5/ },
    { name: "a point range", pattern: num([">=", 5, "<=", 5]), path: at, message: /empty range/ },
    { name: "above 5e9", pattern: num([">", 5000000001]), path: at, message: /out of range; .*-5e9 to 5e9/ },
    { name: "below -5e9", pattern: num([">", -6e9, "<", 0]), path: at, message: /out of range/ },
    { name: "upper bound above 5e9", pattern: num([">", 0, "<", 1e10]), path: at, message: /out of range/ },
    {
      name: "seven decimals",
      pattern: num([">", 1.0000001]),
      path: at,
      message: /7 digits after the decimal point/,
    },
    { name: "1e-7", pattern: num(["=", 1e-7]), path: at, message: /7 digits after the decimal point/ },
  ]);

  it("accepts the limits themselves", () => {
    expect(() => validatePattern(num([">=", -5e9, "<=", 5e9]))).not.toThrow();
    expect(() => validatePattern(num(["=", 0.000001]))).not.toThrow();
    expect(() => validatePattern(num(["<", 4999999999.999999]))).not.toThrow();
    expect(() => validatePattern(num(["=", 3.018e2]))).not.toThrow();
  });

  it("does not limit exact numbers, which EventBridge also matches literally", () => {
    expect(() => validatePattern({ account: [123456789012, 1.23456789] })).not.toThrow();
  });
});

describe("wildcard", () => {
  const at = "a[0].wildcard";
  check([
    {
      name: "consecutive stars",
      pattern: { a: [{ wildcard: "a**b" }] },
      path: at,
      message: /consecutive "\*" at position 1/,
    },
    {
      name: "an escaped other character",
      pattern: { a: [{ wildcard: "a\\b" }] },
      path: at,
      message: /invalid escape at position 1/,
    },
    {
      name: "a trailing backslash",
      pattern: { a: [{ wildcard: "a\\" }] },
      path: at,
      message: /invalid escape/,
    },
    { name: "a number", pattern: { a: [{ wildcard: 5 }] }, path: at, message: /takes a string/ },
    {
      name: "an escaped backslash then two stars",
      pattern: { a: [{ wildcard: "\\\\**" }] },
      path: at,
      message: /consecutive/,
    },
  ]);

  it("accepts escapes next to a star", () => {
    for (const w of ["\\**", "*\\*", "a\\\\*b", "*", ""]) {
      expect(() => validatePattern({ a: [{ wildcard: w }] })).not.toThrow();
    }
  });
});

describe("cidr", () => {
  const at = "ip[0].cidr";
  const cidr = (c: unknown) => ({ ip: [{ cidr: c }] });
  check([
    { name: "no prefix length", pattern: cidr("10.0.0.0"), path: at, message: /malformed CIDR/ },
    { name: "two slashes", pattern: cidr("10.0.0.0/8/8"), path: at, message: /malformed CIDR/ },
    { name: "a non-numeric length", pattern: cidr("10.0.0.0/x"), path: at, message: /whole number/ },
    { name: "a negative length", pattern: cidr("10.0.0.0/-1"), path: at, message: /whole number/ },
    {
      name: "IPv4 /33",
      pattern: cidr("10.0.0.0/33"),
      path: at,
      message: /IPv4 prefix length must be 0-31, got 33/,
    },
    { name: "IPv4 /32 (event-ruler)", pattern: cidr("10.0.0.1/32"), path: at, message: /0-31.*exact string/ },
    {
      name: "IPv6 /128 (event-ruler)",
      pattern: cidr("::1/128"),
      path: at,
      message: /IPv6 prefix length must be 0-127/,
    },
    {
      name: "an octet above 255",
      pattern: cidr("300.0.0.0/8"),
      path: at,
      message: /not an IPv4 or IPv6 address/,
    },
    { name: "a hostname", pattern: cidr("example.com/8"), path: at, message: /not an IPv4 or IPv6 address/ },
    { name: "two ::", pattern: cidr("1::2::/64"), path: at, message: /not an IPv4 or IPv6 address/ },
    { name: "a number", pattern: cidr(10), path: at, message: /takes a string/ },
  ]);

  it("accepts IPv4 and IPv6 blocks", () => {
    for (const c of ["0.0.0.0/0", "10.0.0.0/8", "192.168.1.128/25", "::/0", "2001:DB8::/32", "fe80::/10"]) {
      expect(() => validatePattern(cidr(c))).not.toThrow();
    }
  });

  it("accepts host bits set after the prefix, as event-ruler does", () => {
    for (const c of ["10.0.0.5/24", "220.160.153.171/31", "2001:db8::1/64"]) {
      expect(() => validatePattern(cidr(c))).not.toThrow();
    }
  });
});

describe("anything-but", () => {
  const at = "state[0].anything-but";
  const ab = (operand: unknown) => ({ state: [{ "anything-but": operand }] });
  check([
    { name: "true", pattern: ab(true), path: at, message: /takes a string, a number, a list/ },
    { name: "null", pattern: ab(null), path: at, message: /takes a string, a number, a list/ },
    { name: "an empty list", pattern: ab([]), path: at, message: /list is empty/ },
    { name: "a mixed list", pattern: ab(["a", 1]), path: at, message: /mixes strings and numbers/ },
    { name: "null in a list", pattern: ab(["a", null]), path: at, message: /element 1 is null/ },
    { name: "a matcher in a list", pattern: ab([{ prefix: "a" }]), path: at, message: /element 0 is/ },
    { name: "a number out of range", pattern: ab(6e9), path: at, message: /out of range/ },
    { name: "a list number with 7 decimals", pattern: ab([1, 1.0000001]), path: at, message: /7 digits/ },
    {
      name: "a prefix list",
      pattern: ab({ prefix: ["a", "b"] }),
      path: `${at}.prefix`,
      message: /one non-empty string/,
    },
    {
      name: "an empty prefix",
      pattern: ab({ prefix: "" }),
      path: `${at}.prefix`,
      message: /one non-empty string/,
    },
    {
      name: "an empty suffix",
      pattern: ab({ suffix: "" }),
      path: `${at}.suffix`,
      message: /one non-empty string/,
    },
    {
      name: "numeric inside",
      pattern: ab({ numeric: [">", 1] }),
      path: at,
      message: /"numeric" is not supported inside anything-but/,
    },
    {
      name: "exists inside",
      pattern: ab({ exists: true }),
      path: at,
      message: /not supported inside anything-but/,
    },
    {
      name: "two operators inside",
      pattern: ab({ prefix: "a", suffix: "b" }),
      path: at,
      message: /exactly one of/,
    },
    { name: "an empty object", pattern: ab({}), path: at, message: /exactly one of/ },
    {
      name: "an empty ignore-case list",
      pattern: ab({ "equals-ignore-case": [] }),
      path: `${at}.equals-ignore-case`,
      message: /non-empty list/,
    },
    {
      name: "a number in an ignore-case list",
      pattern: ab({ "equals-ignore-case": ["a", 1] }),
      path: `${at}.equals-ignore-case`,
      message: /element 1 must be a string/,
    },
    {
      name: "a bad wildcard",
      pattern: ab({ wildcard: "a**" }),
      path: `${at}.wildcard`,
      message: /consecutive/,
    },
    {
      name: "a bad wildcard in a list",
      pattern: ab({ wildcard: ["ok", "b\\c"] }),
      path: `${at}.wildcard`,
      message: /invalid escape/,
    },
  ]);

  it("accepts every documented form", () => {
    for (const operand of [
      "x",
      "",
      123,
      ["a", "b"],
      [100, 200.5],
      { prefix: "init" },
      { suffix: ".txt" },
      { "equals-ignore-case": "x" },
      { "equals-ignore-case": ["x", "y"] },
      { wildcard: "*/lib/*" },
      { wildcard: ["*/lib/*", "*/bin/*"] },
    ]) {
      expect(() => validatePattern(ab(operand))).not.toThrow();
    }
  });
});

describe("$or", () => {
  check([
    {
      name: "an object instead of an array",
      pattern: { $or: { a: ["x"] } },
      path: "$or",
      message: /must be an array/,
    },
    {
      name: "one alternative",
      pattern: { $or: [{ a: ["x"] }] },
      path: "$or",
      message: /at least two alternatives, got 1/,
    },
    {
      name: "no alternatives",
      pattern: { $or: [] },
      path: "$or",
      message: /at least two alternatives, got 0/,
    },
    {
      name: "a string alternative",
      pattern: { $or: [{ a: ["x"] }, "b"] },
      path: "$or[1]",
      message: /pattern object/,
    },
    {
      name: "an empty alternative",
      pattern: { $or: [{}, { a: ["x"] }] },
      path: "$or[0]",
      message: /empty object/,
    },
    {
      name: "an operator name as a field inside $or",
      pattern: { $or: [{ prefix: ["a"] }, { b: ["x"] }] },
      path: "$or[0].prefix",
      message: /operator name and cannot be a field name inside \$or/,
    },
    {
      name: "a reserved name deeper inside $or",
      pattern: { $or: [{ a: { numeric: [1] } }, { b: ["x"] }] },
      path: "$or[0].a.numeric",
      message: /inside \$or/,
    },
    {
      name: "a nested path through $or",
      pattern: { data: { $or: [{ a: ["x"] }, { amount: [{ numeric: [">", 1e10] }] }] } },
      path: "data.$or[1].amount[0].numeric",
      message: /out of range/,
    },
    {
      name: "$or in $or with one alternative",
      pattern: { $or: [{ a: ["x"] }, { $or: [{ b: ["y"] }] }] },
      path: "$or[1].$or",
      message: /at least two/,
    },
  ]);

  it("operator names are ordinary field names outside $or", () => {
    expect(() => validatePattern({ prefix: ["a"], data: { numeric: [1] } })).not.toThrow();
  });
});

describe("limits", () => {
  it(`rejects nesting deeper than ${PATTERN_LIMITS.maxDepth}`, () => {
    let pattern: Record<string, unknown> = { leaf: ["x"] };
    for (let i = 0; i < PATTERN_LIMITS.maxDepth; i++) pattern = { n: pattern };
    const err = rejection(pattern);
    expect(err.message).toMatch(/nested more than 32 levels/);
    expect(err.path).toBe(Array(PATTERN_LIMITS.maxDepth).fill("n").join("."));
  });

  it("accepts nesting up to the limit", () => {
    let pattern: Record<string, unknown> = { leaf: ["x"] };
    for (let i = 1; i < PATTERN_LIMITS.maxDepth; i++) pattern = { n: pattern };
    expect(() => validatePattern(pattern)).not.toThrow();
  });

  it(`rejects more than ${PATTERN_LIMITS.maxValues} values`, () => {
    const values = Array.from({ length: PATTERN_LIMITS.maxValues + 1 }, (_, i) => `v${i}`);
    expect(rejection({ id: values }).message).toMatch(/more than 10000 values/);
  });

  it("accepts null-prototype objects", () => {
    const pattern = Object.assign(Object.create(null) as object, { type: ["a"] });
    expect(() => validatePattern(pattern)).not.toThrow();
  });
});
