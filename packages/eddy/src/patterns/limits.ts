/**
 * Operator names and limits shared by the validator and the compiler.
 */

import type { MatcherOperator, NumericOperator } from "./types.js";

/** Operators allowed in a matcher object, in the order error messages list them. */
export const OPERATORS: readonly MatcherOperator[] = [
  "prefix",
  "suffix",
  "anything-but",
  "numeric",
  "exists",
  "equals-ignore-case",
  "wildcard",
  "cidr",
];

/** Operators allowed inside `{ "anything-but": { ... } }`. */
export const ANYTHING_BUT_OPERATORS = ["prefix", "suffix", "equals-ignore-case", "wildcard"] as const;

/** Comparison operators of `numeric`. */
export const NUMERIC_OPERATORS: readonly NumericOperator[] = ["<", "<=", "=", ">", ">="];

/**
 * Names event-ruler refuses as field names anywhere inside a `$or` branch, so that a misplaced
 * matcher (`{"$or": [{"prefix": "a"}, ...]}`) is an error instead of a field called "prefix"
 * (event-ruler Constants.RESERVED_FIELD_NAMES_IN_OR_RELATIONSHIP, which also reserves future names).
 */
export const RESERVED_IN_OR: ReadonlySet<string> = new Set([
  "exactly",
  ...OPERATORS,
  ...NUMERIC_OPERATORS,
  "regex",
  "not-wildcard",
  "not-equals-ignore-case",
  "date-after",
  "date-on-or-after",
  "date-before",
  "date-on-or-before",
  "in-date-range",
  "ip-address-in-range",
  "ip-address-not-in-range",
]);

/**
 * Limits Eddy adds to keep validation and matching bounded; EventBridge has its own (a pattern
 * size quota) but documents no depth limit. Matching cost grows with pattern size, so a pattern
 * near these limits is a mistake rather than a use case.
 *
 * @example
 * PATTERN_LIMITS.maxDepth; // 32
 * PATTERN_LIMITS.maxComplexity; // 300
 */
export const PATTERN_LIMITS = {
  /** Maximum nesting of objects (each nested field and each `$or` branch is one level). */
  maxDepth: 32,
  /** Maximum number of alternatives (exact values and matcher objects) in one pattern. */
  maxValues: 10_000,
  /**
   * Maximum complexity (see complexity.ts): fields, plus operators that test each value
   * (`prefix`, `numeric`, `wildcard`, …), plus the stars of wildcards. Matching costs up to this
   * many tests per event value, so it bounds what one rule can make every event cost. EventBridge
   * bounds the same thing by a 2,048-character pattern (about 100 operators).
   */
  maxComplexity: 300,
} as const;

/**
 * Bound of numeric matching: event-ruler's ComparableNumber encodes numbers in
 * [-5e9, 5e9] with six decimal places, so comparisons use integer micro-units.
 */
export const NUMERIC_MAX = 5e9;
/** Digits kept right of the decimal point in numeric comparisons. */
export const NUMERIC_DECIMALS = 6;
