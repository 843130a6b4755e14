/**
 * Validation of matcher objects (`{ "prefix": "a" }`, `{ "numeric": [">", 0] }`, ...), following
 * event-ruler's JsonRuleCompiler.processMatchExpression and the EventBridge documentation.
 */

import { InvalidPatternError } from "../errors.js";
import { describe, fieldPath, isPlainObject } from "./describe.js";
import { parseCidr } from "./ip.js";
import { ANYTHING_BUT_OPERATORS, NUMERIC_OPERATORS, OPERATORS } from "./limits.js";
import { patternMicros } from "./numbers.js";
import { parseWildcard } from "./wildcard.js";

const OPERATOR_LIST = OPERATORS.join(", ");

/** Checks one matcher object found at `path` (the leaf element, e.g. `data.total[0]`). */
export function validateMatcher(matcher: Record<string, unknown>, path: string): void {
  const keys = Object.keys(matcher);
  if (keys.length !== 1) {
    throw new InvalidPatternError(
      path,
      keys.length === 0
        ? `empty operator object; expected one of ${OPERATOR_LIST}`
        : `an operator object takes exactly one operator, got ${keys.map((k) => JSON.stringify(k)).join(", ")}; ` +
            "put each in its own array element (the elements are alternatives)",
    );
  }
  const op = keys[0]!;
  const operand = matcher[op];
  const at = fieldPath(path, op);
  switch (op) {
    case "prefix":
    case "suffix":
      return checkAffix(op, operand, at);
    case "equals-ignore-case":
      return checkString(operand, at, "equals-ignore-case");
    case "wildcard":
      return checkWildcard(operand, at);
    case "cidr": {
      checkString(operand, at, "cidr");
      const block = parseCidr(operand as string);
      if (typeof block === "string") throw new InvalidPatternError(at, block);
      return;
    }
    case "exists":
      if (typeof operand !== "boolean") {
        throw new InvalidPatternError(at, `exists takes true or false, got ${describe(operand)}`);
      }
      return;
    case "numeric":
      return checkNumeric(operand, at);
    case "anything-but":
      return checkAnythingBut(operand, at);
    default:
      throw new InvalidPatternError(
        path,
        `unknown operator ${JSON.stringify(op)}; expected one of ${OPERATOR_LIST}`,
      );
  }
}

function checkString(operand: unknown, at: string, op: string): asserts operand is string {
  if (typeof operand !== "string") {
    throw new InvalidPatternError(at, `${op} takes a string, got ${describe(operand)}`);
  }
}

// prefix / suffix: a string, or { "equals-ignore-case": string } for a case-insensitive match.
function checkAffix(op: "prefix" | "suffix", operand: unknown, at: string): void {
  if (typeof operand === "string") return;
  if (!isPlainObject(operand)) {
    throw new InvalidPatternError(
      at,
      `${op} takes a string or { "equals-ignore-case": "..." }, got ${describe(operand)}`,
    );
  }
  const keys = Object.keys(operand);
  if (keys.length !== 1 || keys[0] !== "equals-ignore-case") {
    throw new InvalidPatternError(
      at,
      `${op} takes a string or { "equals-ignore-case": "..." }; got ${describe(operand)}`,
    );
  }
  checkString(operand["equals-ignore-case"], fieldPath(at, "equals-ignore-case"), "equals-ignore-case");
}

function checkWildcard(operand: unknown, at: string): void {
  checkString(operand, at, "wildcard");
  const parsed = parseWildcard(operand);
  if (typeof parsed === "string") throw new InvalidPatternError(at, parsed);
}

function checkNumber(value: unknown, at: string, position: number): number {
  if (typeof value !== "number") {
    throw new InvalidPatternError(at, `expected a number at position ${position}, got ${describe(value)}`);
  }
  const micros = patternMicros(value);
  if (typeof micros === "string") throw new InvalidPatternError(at, micros);
  return micros;
}

function checkOperator(value: unknown, at: string, position: number): string {
  if (typeof value !== "string" || !(NUMERIC_OPERATORS as readonly string[]).includes(value)) {
    throw new InvalidPatternError(
      at,
      `expected a comparison operator (${NUMERIC_OPERATORS.join(", ")}) at position ${position}, got ${describe(value)}`,
    );
  }
  return value;
}

// One comparison [op, n], or a range [">" | ">=", low, "<" | "<=", high] with low < high
// (event-ruler: only a lower bound may be followed by an upper bound; Range.between rejects
// bottom >= top).
function checkNumeric(operand: unknown, at: string): void {
  const example = `e.g. [">", 0] or [">=", 0, "<", 10]`;
  if (!Array.isArray(operand)) {
    throw new InvalidPatternError(at, `numeric takes an array, ${example}, got ${describe(operand)}`);
  }
  if (operand.length !== 2 && operand.length !== 4) {
    throw new InvalidPatternError(
      at,
      `numeric takes one comparison or a lower and an upper bound, ${example}; got ${operand.length} elements`,
    );
  }
  const first = checkOperator(operand[0], at, 0);
  const low = checkNumber(operand[1], at, 1);
  if (operand.length === 2) return;
  if (first !== ">" && first !== ">=") {
    throw new InvalidPatternError(
      at,
      `a range starts with its lower bound (">" or ">="), then the upper bound ("<" or "<="); ` +
        `got ${JSON.stringify(first)} first, ${example}`,
    );
  }
  const second = checkOperator(operand[2], at, 2);
  if (second !== "<" && second !== "<=") {
    throw new InvalidPatternError(
      at,
      `the second comparison of a range must be "<" or "<=" (an upper bound), got ${JSON.stringify(second)}`,
    );
  }
  const high = checkNumber(operand[3], at, 3);
  if (low >= high) {
    throw new InvalidPatternError(
      at,
      `empty range: the lower bound ${describe(operand[1])} must be less than the upper bound ${describe(operand[3])}`,
    );
  }
}

const ANYTHING_BUT_FORMS =
  'a string, a number, a list of strings or of numbers, or one of { "prefix" | "suffix" | "equals-ignore-case" | "wildcard": ... }';

function checkAnythingBut(operand: unknown, at: string): void {
  if (typeof operand === "string") return;
  if (typeof operand === "number") {
    checkNumber(operand, at, 0);
    return;
  }
  if (Array.isArray(operand)) return checkAnythingButList(operand, at);
  if (!isPlainObject(operand)) {
    throw new InvalidPatternError(at, `anything-but takes ${ANYTHING_BUT_FORMS}, got ${describe(operand)}`);
  }
  const keys = Object.keys(operand);
  if (keys.length !== 1) {
    throw new InvalidPatternError(
      at,
      `anything-but takes exactly one of ${ANYTHING_BUT_OPERATORS.join(", ")}, got ${describe(operand)}`,
    );
  }
  const op = keys[0]!;
  const inner = operand[op];
  const innerAt = fieldPath(at, op);
  switch (op) {
    case "prefix":
    case "suffix":
      // The EventBridge documentation: "anything-but matching only works with a single prefix,
      // not a list"; event-ruler also rejects an empty one ("Null prefix/suffix not allowed").
      if (typeof inner !== "string" || inner === "") {
        throw new InvalidPatternError(
          innerAt,
          `anything-but ${op} takes one non-empty string, got ${describe(inner)}`,
        );
      }
      return;
    case "equals-ignore-case":
    case "wildcard":
      if (typeof inner === "string") {
        if (op === "wildcard") checkWildcard(inner, innerAt);
        return;
      }
      if (!Array.isArray(inner) || inner.length === 0) {
        throw new InvalidPatternError(
          innerAt,
          `anything-but ${op} takes a string or a non-empty list of strings, got ${describe(inner)}`,
        );
      }
      inner.forEach((v, i) => {
        if (typeof v !== "string") {
          throw new InvalidPatternError(innerAt, `element ${i} must be a string, got ${describe(v)}`);
        }
        if (op === "wildcard") checkWildcard(v, innerAt);
      });
      return;
    default:
      throw new InvalidPatternError(
        at,
        `${JSON.stringify(op)} is not supported inside anything-but; expected one of ${ANYTHING_BUT_OPERATORS.join(", ")}`,
      );
  }
}

// event-ruler: "Inside anything but list, either all values are number or string, mixed type is
// not supported"; null, booleans and objects are refused outright.
function checkAnythingButList(list: unknown[], at: string): void {
  if (list.length === 0) {
    throw new InvalidPatternError(at, "anything-but list is empty; list at least one value to exclude");
  }
  const kind = typeof list[0];
  list.forEach((v, i) => {
    if (typeof v !== "string" && typeof v !== "number") {
      throw new InvalidPatternError(
        at,
        `anything-but lists hold strings or numbers only; element ${i} is ${describe(v)}`,
      );
    }
    if (typeof v !== kind) {
      throw new InvalidPatternError(
        at,
        "anything-but list mixes strings and numbers; use all strings or all numbers",
      );
    }
    if (typeof v === "number") checkNumber(v, at, i);
  });
}
