/**
 * Matching events against patterns with EventBridge semantics (aws/event-ruler's
 * `rulesForJSONEvent`, the reference implementation):
 *
 * - Fields AND together; the alternatives of a leaf array OR together; `$or` ORs sub-patterns.
 * - A leaf alternative only sees leaf values: strings, numbers, booleans and null. An event array
 *   matches when any element does (nested arrays are flattened); an object is not a leaf, so only
 *   `exists: false` matches it.
 * - Matching is array-consistent: a nested pattern matched against an array of objects must be
 *   satisfied by one element, not by fields picked from different elements.
 * - `exists: true` matches any leaf value, null included; `exists: false` matches an absent field,
 *   an object-valued field or an array without leaf values. Under an array of objects it is judged
 *   in the element the pattern's other fields match; alone, in every element.
 * - `cidr` with host bits set after the prefix ("10.0.0.5/24") matches the masked block.
 * - Exact strings match strings only, exact numbers match numerically equal numbers (300 = 300.0),
 *   booleans and null match themselves. `numeric` only sees JSON numbers within ±5e9 and six
 *   decimals; `prefix`, `suffix`, `equals-ignore-case`, `wildcard` and `cidr` only strings.
 * - `anything-but` matches any present leaf value that is not excluded, whatever its type.
 *
 * Known differences from event-ruler, all about text Eddy no longer has once JSON is parsed:
 * exact numbers outside the comparable range compare as doubles (event-ruler compares their JSON
 * text), and exact strings that look like IP addresses compare as strings (event-ruler compares
 * the parsed address, so "::1" equals "0::1").
 */

import { compileNode, type Field, type Leaf, type PatternNode, type Scalar } from "./compile.js";
import { eventMicros } from "./numbers.js";
import type { EventPattern } from "./types.js";
import { validatePattern } from "./validate.js";

/** A compiled pattern: tells whether an event matches. */
export type PatternMatcher = (event: unknown) => boolean;

/**
 * Validates and compiles a pattern once, for matching many events. Throws
 * {@link InvalidPatternError} when the pattern is not valid. The pattern is read now: mutating it
 * later does not change the matcher.
 *
 * @example
 * const isBigOrder = compilePattern({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } });
 * isBigOrder({ type: "order.paid", data: { total: 250 } }); // true
 */
export function compilePattern(pattern: EventPattern): PatternMatcher {
  validatePattern(pattern);
  const root = compileNode(pattern);
  return (event) => nodeMatches(root, event);
}

const cache = new WeakMap<object, PatternMatcher>();

/**
 * True when `event` matches `pattern`. The pattern is validated and compiled on first use and the
 * result is cached per pattern object, so reuse the same object (and do not mutate it) in hot
 * paths; an invalid pattern throws {@link InvalidPatternError}.
 *
 * @example
 * matchesPattern({ source: [{ prefix: "/shop" }] }, { source: "/shop/orders", type: "order.paid" }); // true
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  let matcher = cache.get(pattern);
  if (matcher === undefined) {
    matcher = compilePattern(pattern);
    cache.set(pattern, matcher);
  }
  return matcher(event);
}

function get(obj: object | undefined, field: Field): unknown {
  if (obj === undefined) return undefined;
  if (field.guarded && !Object.hasOwn(obj, field.key)) return undefined;
  return (obj as Record<string, unknown>)[field.key];
}

function asObject(value: unknown): object | undefined {
  return typeof value === "object" && value !== null ? value : undefined;
}

function fieldMatches(field: Field, value: unknown): boolean {
  return field.leaf !== undefined ? leafMatches(field.leaf, value) : nodeMatches(field.node!, value);
}

function nodeMatches(node: PatternNode, value: unknown): boolean {
  if (Array.isArray(value)) {
    if (node.present.length > 0 || node.ors.length > 0) return someElementMatches(node, value);
    for (const field of node.absent) if (!absentEverywhere(field, value)) return false;
    return true;
  }
  return elementMatches(node, asObject(value));
}

/** The whole node in one object: its absences are judged where its other fields matched. */
function elementMatches(node: PatternNode, obj: object | undefined): boolean {
  for (const field of node.absent) if (!fieldMatches(field, get(obj, field))) return false;
  return positiveMatches(node, obj);
}

function absentEverywhere(field: Field, elements: readonly unknown[]): boolean {
  for (const element of elements) {
    if (Array.isArray(element)) {
      if (!absentEverywhere(field, element)) return false;
    } else if (!fieldMatches(field, get(asObject(element), field))) {
      return false;
    }
  }
  return true;
}

function someElementMatches(node: PatternNode, elements: readonly unknown[]): boolean {
  for (const element of elements) {
    if (Array.isArray(element)) {
      if (someElementMatches(node, element)) return true;
    } else if (elementMatches(node, asObject(element))) {
      return true;
    }
  }
  return false;
}

function positiveMatches(node: PatternNode, obj: object | undefined): boolean {
  const present = node.present;
  for (let i = 0; i < present.length; i++) {
    const field = present[i]!;
    if (!fieldMatches(field, get(obj, field))) return false;
  }
  for (const branches of node.ors) {
    let any = false;
    for (const branch of branches) {
      if (nodeMatches(branch, obj)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  return true;
}

const NO_VALUES = 0;
const NO_MATCH = 1;
const MATCH = 2;

function leafMatches(leaf: Leaf, value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "number":
    case "boolean":
      return scalarMatches(leaf, value);
    case "object":
      if (value === null) return scalarMatches(leaf, null);
      if (Array.isArray(value)) {
        const found = arrayMatches(leaf, value);
        return found === MATCH || (found === NO_VALUES && leaf.absentOk);
      }
      return leaf.absentOk; // an object is not a leaf value
    default:
      return leaf.absentOk; // undefined (absent), or not JSON at all
  }
}

function arrayMatches(leaf: Leaf, elements: readonly unknown[]): number {
  let found = NO_VALUES;
  for (const element of elements) {
    if (Array.isArray(element)) {
      const inner = arrayMatches(leaf, element);
      if (inner === MATCH) return MATCH;
      if (inner === NO_MATCH) found = NO_MATCH;
    } else if (isScalar(element)) {
      if (scalarMatches(leaf, element)) return MATCH;
      found = NO_MATCH;
    }
  }
  return found;
}

function isScalar(value: unknown): value is Scalar {
  const t = typeof value;
  return t === "string" || t === "number" || t === "boolean" || value === null;
}

function scalarMatches(leaf: Leaf, value: Scalar): boolean {
  switch (typeof value) {
    case "string":
      if (leaf.strings !== undefined && leaf.strings.has(value)) return true;
      if (leaf.lowered !== undefined && leaf.lowered.has(value.toLowerCase())) return true;
      break;
    case "number":
      if (leaf.numbers !== undefined && leaf.numbers.has(value)) return true;
      if (leaf.micros !== undefined && leaf.micros.has(eventMicros(value))) return true;
      break;
    case "boolean":
      if (value ? leaf.trueOk : leaf.falseOk) return true;
      break;
    default:
      if (leaf.nullOk) return true;
  }
  if (leaf.anyValue) return true;
  const tests = leaf.tests;
  for (let i = 0; i < tests.length; i++) if (tests[i]!(value)) return true;
  return false;
}
