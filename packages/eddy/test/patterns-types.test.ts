// Type-level checks of EventPattern: `tsc -b` builds this project, so every @ts-expect-error below
// must still be an error. The runtime assertions show that the validator agrees.
import { describe, expect, it } from "vitest";
import { validatePattern, type EventPattern } from "../src/patterns/index.js";

const valid: EventPattern[] = [
  { type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } },
  { data: { total: [{ numeric: [">=", 0, "<", 10] }], note: [null, "", { exists: false }] } },
  { source: [{ prefix: { "equals-ignore-case": "/Shop" } }], subject: [{ suffix: ".png" }] },
  { state: [{ "anything-but": ["a", "b"] }, { "anything-but": { wildcard: ["*x*"] } }] },
  { ip: [{ cidr: "10.0.0.0/8" }], name: [{ "equals-ignore-case": "a" }, { wildcard: "a*" }] },
  { $or: [{ a: ["x"] }, { b: [1, true] }], data: { $or: [{ c: ["y"] }, { d: [{ exists: true }] }] } },
];

const invalid: unknown[] = [
  // @ts-expect-error leaves are arrays
  { type: "order.paid" } satisfies EventPattern,
  // @ts-expect-error misspelt operator
  { data: { total: [{ numerc: [">", 100] }] } } satisfies EventPattern,
  // @ts-expect-error a range starts with its lower bound
  { n: [{ numeric: ["<", 10, ">", 5] }] } satisfies EventPattern,
  // @ts-expect-error exists takes a boolean
  { n: [{ exists: "yes" }] } satisfies EventPattern,
  // @ts-expect-error $or needs two alternatives
  { $or: [{ a: ["x"] }] } satisfies EventPattern,
  // @ts-expect-error anything-but does not take booleans
  { n: [{ "anything-but": true }] } satisfies EventPattern,
];

describe("EventPattern type", () => {
  it("accepts what the validator accepts", () => {
    for (const pattern of valid) expect(() => validatePattern(pattern)).not.toThrow();
  });

  it("rejects what the validator rejects", () => {
    for (const pattern of invalid) expect(() => validatePattern(pattern)).toThrow();
  });
});
