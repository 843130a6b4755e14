/**
 * Turns a validated pattern into a tree that match.ts walks without allocating: exact values in
 * Sets, operands pre-parsed (lower-cased strings, CIDR blocks, wildcard pieces, numeric bounds in
 * micro-units) and each field sorted so that cheap, selective checks run first.
 */

import { isPlainObject } from "./describe.js";
import { inCidr, parseCidr } from "./ip.js";
import { MICROS_MAX, MICROS_MIN, eventMicros, patternMicros } from "./numbers.js";
import type { EventPattern } from "./types.js";
import { parseWildcard, wildcardMatches, type Wildcard } from "./wildcard.js";

/** A JSON leaf value as found in an event. */
export type Scalar = string | number | boolean | null;

/** A pre-compiled alternative that is not an exact value; true when `value` satisfies it. */
export type Test = (value: Scalar) => boolean;

/** The alternatives of one leaf array, grouped by kind. */
export interface Leaf {
  strings: Set<string> | undefined;
  /** Exact numbers as written, and their micro-units when EventBridge can compare them numerically. */
  numbers: Set<number> | undefined;
  micros: Set<number> | undefined;
  /** Lower-cased operands of `equals-ignore-case`. */
  lowered: Set<string> | undefined;
  trueOk: boolean;
  falseOk: boolean;
  nullOk: boolean;
  /** `exists: true`: any leaf value matches. */
  anyValue: boolean;
  /** `exists: false`: matches when the field has no leaf value. */
  absentOk: boolean;
  tests: Test[];
}

/** A field of a pattern object: either a leaf or a nested object. */
export interface Field {
  key: string;
  /** The key is also a property of Object.prototype ("constructor", "__proto__"): read it with hasOwn. */
  guarded: boolean;
  leaf: Leaf | undefined;
  node: PatternNode | undefined;
}

/** A compiled pattern object. */
export interface PatternNode {
  /**
   * Fields whose whole subtree only asks for absence (`exists: false`). Under an array, beside
   * other fields, they are judged in the element those matched in, as event-ruler's
   * array-consistent matching does (`{"employees": {"name": ["Anna"], "ids": [{"exists": false}]}}`
   * matches an employee Anna without ids, whatever the others have); alone, they must hold for
   * every element: `{"items": {"discount": [{"exists": false}]}}` means no item has a discount.
   */
  absent: Field[];
  present: Field[];
  /** Each `$or`: its alternatives. */
  ors: PatternNode[][];
}

/** Compiles a pattern that {@link validatePattern} accepted. */
export function compileNode(pattern: EventPattern | Record<string, unknown>): PatternNode {
  const node: PatternNode = { absent: [], present: [], ors: [] };
  for (const key of Object.keys(pattern)) {
    const value = (pattern as Record<string, unknown>)[key];
    if (key === "$or") {
      node.ors.push((value as readonly EventPattern[]).map((branch) => compileNode(branch)));
      continue;
    }
    const field: Field = {
      key,
      guarded: key in Object.prototype,
      leaf: Array.isArray(value) ? compileLeaf(value) : undefined,
      node: isPlainObject(value) ? compileNode(value) : undefined,
    };
    (onlyAbsence(field) ? node.absent : node.present).push(field);
  }
  node.present.sort((a, b) => cost(a) - cost(b));
  return node;
}

function onlyAbsence(field: Field): boolean {
  const { leaf, node } = field;
  if (node !== undefined) return node.present.length === 0 && node.ors.length === 0;
  return (
    leaf !== undefined &&
    leaf.absentOk &&
    !leaf.anyValue &&
    !leaf.trueOk &&
    !leaf.falseOk &&
    !leaf.nullOk &&
    leaf.tests.length === 0 &&
    leaf.strings === undefined &&
    leaf.numbers === undefined &&
    leaf.lowered === undefined
  );
}

// Exact-only leaves are one Set lookup and the most selective, so they go first.
function cost(field: Field): number {
  if (field.node !== undefined) return 3;
  return field.leaf!.tests.length === 0 ? 1 : 2;
}

function compileLeaf(values: readonly unknown[]): Leaf {
  const leaf: Leaf = {
    strings: undefined,
    numbers: undefined,
    micros: undefined,
    lowered: undefined,
    trueOk: false,
    falseOk: false,
    nullOk: false,
    anyValue: false,
    absentOk: false,
    tests: [],
  };
  for (const value of values) {
    if (typeof value === "string") {
      (leaf.strings ??= new Set()).add(value);
    } else if (typeof value === "number") {
      (leaf.numbers ??= new Set()).add(value);
      // event-ruler adds a numeric-equality matcher next to the literal one when the number is
      // comparable, so 300 also matches 300.0 and 3e2.
      const micros = patternMicros(value);
      if (typeof micros === "number") (leaf.micros ??= new Set()).add(micros);
    } else if (typeof value === "boolean") {
      if (value) leaf.trueOk = true;
      else leaf.falseOk = true;
    } else if (value === null) {
      leaf.nullOk = true;
    } else {
      addOperator(leaf, value as Record<string, unknown>);
    }
  }
  return leaf;
}

function addOperator(leaf: Leaf, matcher: Record<string, unknown>): void {
  const op = Object.keys(matcher)[0]!;
  const operand = matcher[op];
  switch (op) {
    case "exists":
      if (operand === true) leaf.anyValue = true;
      else leaf.absentOk = true;
      return;
    case "equals-ignore-case":
      (leaf.lowered ??= new Set()).add((operand as string).toLowerCase());
      return;
    case "prefix":
    case "suffix":
      leaf.tests.push(affixTest(op, operand as string | Record<string, string>));
      return;
    case "wildcard": {
      const w = parseWildcard(operand as string) as Wildcard;
      leaf.tests.push((v) => typeof v === "string" && wildcardMatches(w, v));
      return;
    }
    case "cidr": {
      const block = parseCidr(operand as string);
      if (typeof block === "string") throw new Error(block); // unreachable after validation
      leaf.tests.push((v) => typeof v === "string" && inCidr(block, v));
      return;
    }
    case "numeric":
      leaf.tests.push(numericTest(operand as unknown[]));
      return;
    case "anything-but":
      leaf.tests.push(anythingButTest(operand));
      return;
  }
}

function affixTest(op: "prefix" | "suffix", operand: string | Record<string, string>): Test {
  if (typeof operand === "string") {
    return op === "prefix"
      ? (v) => typeof v === "string" && v.startsWith(operand)
      : (v) => typeof v === "string" && v.endsWith(operand);
  }
  const lower = operand["equals-ignore-case"]!.toLowerCase();
  return op === "prefix"
    ? (v) => typeof v === "string" && v.toLowerCase().startsWith(lower)
    : (v) => typeof v === "string" && v.toLowerCase().endsWith(lower);
}

function micros(value: unknown): number {
  return patternMicros(value as number) as number;
}

function numericTest(operand: readonly unknown[]): Test {
  let low = MICROS_MIN;
  let high = MICROS_MAX;
  let lowOpen = false;
  let highOpen = false;
  const setBound = (op: unknown, value: unknown): void => {
    const m = micros(value);
    if (op === "=" || op === ">" || op === ">=") {
      low = m;
      lowOpen = op === ">";
    }
    if (op === "=" || op === "<" || op === "<=") {
      high = m;
      highOpen = op === "<";
    }
  };
  setBound(operand[0], operand[1]);
  if (operand.length === 4) setBound(operand[2], operand[3]);
  return (v) => {
    if (typeof v !== "number") return false;
    const m = eventMicros(v); // NaN (not comparable) fails every comparison below
    return (lowOpen ? m > low : m >= low) && (highOpen ? m < high : m <= high);
  };
}

// anything-but matches every leaf value (string, number, boolean or null) except the excluded
// ones: in event-ruler's ByteMachine an anything-but transition fires for any value and is only
// withdrawn when the value equals an excluded one of the same kind. So {"anything-but": "x"}
// matches 5, true and null, and {"anything-but": [1, 2]} matches "1".
function anythingButTest(operand: unknown): Test {
  if (typeof operand === "string") return (v) => v !== operand;
  if (typeof operand === "number") {
    const excluded = micros(operand);
    return (v) => typeof v !== "number" || eventMicros(v) !== excluded;
  }
  if (Array.isArray(operand)) {
    if (typeof operand[0] === "string") {
      const strings = new Set(operand as string[]);
      return (v) => typeof v !== "string" || !strings.has(v);
    }
    const numbers = new Set(operand.map(micros));
    return (v) => typeof v !== "number" || !numbers.has(eventMicros(v));
  }
  const [op, inner] = Object.entries(operand as Record<string, unknown>)[0]!;
  const list = (Array.isArray(inner) ? inner : [inner]) as string[];
  switch (op) {
    case "prefix": {
      const p = list[0]!;
      return (v) => typeof v !== "string" || !v.startsWith(p);
    }
    case "suffix": {
      const s = list[0]!;
      return (v) => typeof v !== "string" || !v.endsWith(s);
    }
    case "equals-ignore-case": {
      const lowered = new Set(list.map((s) => s.toLowerCase()));
      return (v) => typeof v !== "string" || !lowered.has(v.toLowerCase());
    }
    default: {
      const wildcards = list.map((s) => parseWildcard(s) as Wildcard);
      return (v) => typeof v !== "string" || !wildcards.some((w) => wildcardMatches(w, v));
    }
  }
}
