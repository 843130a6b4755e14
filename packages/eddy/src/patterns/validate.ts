/**
 * Structural validation of event patterns: objects, `$or`, and leaf arrays. Matcher objects are
 * checked in validate-operators.ts. The rules and their wording follow event-ruler's
 * JsonRuleCompiler (the implementation behind EventBridge), each message naming the path from the
 * root and what was expected instead.
 */

import { InvalidPatternError } from "../errors.js";
import { matcherCost } from "./complexity.js";
import { describe, fieldPath, indexPath, isPlainObject } from "./describe.js";
import { OPERATORS, PATTERN_LIMITS, RESERVED_IN_OR } from "./limits.js";
import type { EventPattern } from "./types.js";
import { validateMatcher } from "./validate-operators.js";

interface Budget {
  values: number;
  /** See complexity.ts. */
  cost: number;
}

/**
 * Checks that `pattern` is a valid EventBridge event pattern and throws an
 * {@link InvalidPatternError} naming the first problem otherwise. Its `path` points at the
 * offending field (`data.total[0].numeric`), its message says what was expected.
 *
 * @example
 * validatePattern({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } }); // ok
 * validatePattern({ data: { total: [{ numerc: [">", 100] }] } });
 * // InvalidPatternError: data.total[0]: unknown operator "numerc"; expected one of prefix, ...
 */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  patternComplexity(pattern);
}

/**
 * Validates `pattern` as {@link validatePattern} does and returns its complexity: how many tests
 * matching may run per event value it looks at (fields, operators that are not lookups, wildcard
 * stars; exact values are free). Over {@link PATTERN_LIMITS}.maxComplexity the pattern is refused.
 *
 * @example
 * patternComplexity({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } }); // 4
 */
export function patternComplexity(pattern: unknown): number {
  if (!isPlainObject(pattern)) {
    throw new InvalidPatternError(
      "",
      `a pattern must be a JSON object such as { "type": ["order.paid"] }, got ${describe(pattern)}`,
    );
  }
  const budget = { values: 0, cost: 0 };
  validateObject(pattern, "", 1, false, budget);
  if (budget.cost > PATTERN_LIMITS.maxComplexity) {
    throw new InvalidPatternError(
      "",
      `the pattern is too complex: ${budget.cost} (each field counts 1, each operator that tests values — prefix, suffix, numeric, cidr, wildcard, anything-but — 1, and each wildcard "*" 1 more; exact values are free), over the limit of ${PATTERN_LIMITS.maxComplexity}; split it into several rules or list exact values`,
    );
  }
  return budget.cost;
}

function validateObject(
  obj: Record<string, unknown>,
  path: string,
  depth: number,
  inOr: boolean,
  budget: Budget,
): void {
  if (depth > PATTERN_LIMITS.maxDepth) {
    throw new InvalidPatternError(
      path,
      `nested more than ${PATTERN_LIMITS.maxDepth} levels deep; flatten the pattern`,
    );
  }
  const keys = Object.keys(obj);
  if (keys.length === 0) {
    throw new InvalidPatternError(
      path,
      "empty object; give at least one field to match (EventBridge does not allow {})",
    );
  }
  for (const key of keys) {
    const value = obj[key];
    budget.cost++;
    if (key === "$or") {
      validateOr(value, fieldPath(path, key), depth, budget);
      continue;
    }
    const child = fieldPath(path, key);
    // event-ruler refuses operator names as field names inside $or: there they are almost always
    // a matcher written without its field, e.g. { "$or": [{ "prefix": "a" }, ...] }.
    if (inOr && RESERVED_IN_OR.has(key)) {
      throw new InvalidPatternError(
        child,
        `"${key}" is an operator name and cannot be a field name inside $or; ` +
          `write { "field": [{ "${key}": ... }] }`,
      );
    }
    if (Array.isArray(value)) {
      validateLeaf(value, child, budget);
    } else if (isPlainObject(value)) {
      validateObject(value, child, depth + 1, inOr, budget);
    } else {
      throw new InvalidPatternError(child, notLeafMessage(key, value));
    }
  }
}

function notLeafMessage(key: string, value: unknown): string {
  const base = `expected an array of values to match (e.g. ["a"]) or a nested object, got ${describe(value)}`;
  // The usual mistake: { "total": { "numeric": [...] } } is a field called "numeric", and
  // { "x": { "exists": true } } has a bare value; hint at the bracketed form.
  if ((OPERATORS as readonly string[]).includes(key)) {
    return `${base}; to use the ${key} operator write "field": [{ "${key}": ${describe(value)} }]`;
  }
  return `${base}; leaf values are always arrays, e.g. [${describe(value)}]`;
}

function validateOr(value: unknown, path: string, depth: number, budget: Budget): void {
  if (!Array.isArray(value)) {
    throw new InvalidPatternError(
      path,
      `$or must be an array of at least two patterns, e.g. [{ "a": ["x"] }, { "b": ["y"] }], got ${describe(value)}`,
    );
  }
  if (value.length < 2) {
    throw new InvalidPatternError(
      path,
      `$or needs at least two alternatives, got ${value.length}; without alternatives use the fields directly`,
    );
  }
  value.forEach((branch, i) => {
    const branchPath = indexPath(path, i);
    if (!isPlainObject(branch)) {
      throw new InvalidPatternError(
        branchPath,
        `each $or alternative must be a pattern object, got ${describe(branch)}`,
      );
    }
    validateObject(branch, branchPath, depth + 1, true, budget);
  });
}

function validateLeaf(values: unknown[], path: string, budget: Budget): void {
  if (values.length === 0) {
    throw new InvalidPatternError(
      path,
      "empty array; list at least one value to match (an empty array would match nothing)",
    );
  }
  budget.values += values.length;
  if (budget.values > PATTERN_LIMITS.maxValues) {
    throw new InvalidPatternError(
      path,
      `the pattern has more than ${PATTERN_LIMITS.maxValues} values; split it into several rules`,
    );
  }
  values.forEach((value, i) => {
    const at = indexPath(path, i);
    switch (typeof value) {
      case "string":
      case "boolean":
        return;
      case "number":
        if (!Number.isFinite(value)) {
          throw new InvalidPatternError(at, `${value} is not a JSON number`);
        }
        return;
      case "object":
        if (value === null) return;
        if (Array.isArray(value)) {
          throw new InvalidPatternError(
            at,
            `nested arrays are not allowed; list the values directly, e.g. ["a", "b"], got ${describe(value)}`,
          );
        }
        if (isPlainObject(value)) {
          validateMatcher(value, at);
          budget.cost += matcherCost(value);
          return;
        }
    }
    throw new InvalidPatternError(
      at,
      `expected a string, number, boolean, null or an operator object such as { "prefix": "a" }, got ${describe(value)}`,
    );
  });
}
