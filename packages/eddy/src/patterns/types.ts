/**
 * Types of Amazon EventBridge event patterns as Eddy applies them to CloudEvents: the CloudEvent
 * attributes (`type`, `source`, `subject`, extensions, ...) at the top level and the payload under
 * `data`. The types guide authors (operator names autocomplete, leaves must be arrays);
 * {@link validatePattern} enforces the rules a type cannot express (numeric limits, wildcard syntax,
 * CIDR syntax, `$or` arity).
 */

/** A value matched exactly: strings match strings, numbers match numerically equal numbers. */
export type ExactValue = string | number | boolean | null;

/** Comparison operators of a `numeric` matcher. */
export type NumericOperator = "<" | "<=" | "=" | ">" | ">=";

/**
 * Operand of `numeric`: one comparison, or a lower bound followed by an upper bound
 * (EventBridge accepts only that order: `[">", 0, "<=", 5]`, never `["<", 5, ">", 0]`).
 */
export type NumericCondition =
  readonly [NumericOperator, number] | readonly [">" | ">=", number, "<" | "<=", number];

/** `{ "equals-ignore-case": "..." }` nested in `prefix` or `suffix`. */
export interface IgnoreCase {
  "equals-ignore-case": string;
}

/** Operand of `anything-but`. */
export type AnythingButOperand =
  | string
  | number
  | readonly string[]
  | readonly number[]
  | { prefix: string }
  | { suffix: string }
  | { "equals-ignore-case": string | readonly string[] }
  | { wildcard: string | readonly string[] };

/** Matches strings that start with the prefix (optionally ignoring case). */
export interface PrefixMatcher {
  prefix: string | IgnoreCase;
}
/** Matches strings that end with the suffix (optionally ignoring case). */
export interface SuffixMatcher {
  suffix: string | IgnoreCase;
}
/** Matches any present leaf value except the excluded ones; never matches an absent field. */
export interface AnythingButMatcher {
  "anything-but": AnythingButOperand;
}
/** Matches JSON numbers in a range; numbers outside ±5e9 or with more than 6 decimals never match. */
export interface NumericMatcher {
  numeric: NumericCondition;
}
/** `true`: the field has a leaf value (null included); `false`: it has none (absent, or an object). */
export interface ExistsMatcher {
  exists: boolean;
}
/** Matches strings equal to the operand ignoring case. */
export interface EqualsIgnoreCaseMatcher {
  "equals-ignore-case": string;
}
/** Matches strings against a glob where `*` is any run of characters; `\\*` and `\\\\` are literals. */
export interface WildcardMatcher {
  wildcard: string;
}
/** Matches strings holding an IPv4 or IPv6 address inside the block, e.g. `"10.0.0.0/24"`. */
export interface CidrMatcher {
  cidr: string;
}

/** One alternative in a leaf array. */
export type Matcher =
  | ExactValue
  | PrefixMatcher
  | SuffixMatcher
  | AnythingButMatcher
  | NumericMatcher
  | ExistsMatcher
  | EqualsIgnoreCaseMatcher
  | WildcardMatcher
  | CidrMatcher;

/** Operator names that may appear in a matcher object. */
export type MatcherOperator =
  "prefix" | "suffix" | "anything-but" | "numeric" | "exists" | "equals-ignore-case" | "wildcard" | "cidr";

/** The alternatives for one field: the field matches when any of them does. Never empty. */
export type PatternLeaf = readonly Matcher[];

/**
 * Operand of `$or`: at least two sub-patterns. A tuple type rather than `EventPattern[]` so that a
 * leaf with a misspelt operator (`[{ "numerc": [">", 1] }]`) does not type-check as a one-item
 * `$or` list: the index signature of {@link EventPattern} has to admit this type for every key.
 */
export type PatternAlternatives = readonly [EventPattern, EventPattern, ...EventPattern[]];

/**
 * An EventBridge event pattern. Each key names a field of the event; its value is either a
 * {@link PatternLeaf} (array of alternatives) or a nested pattern for an object-valued field.
 * `$or` holds at least two sub-patterns, one of which must match, and may appear in any object.
 *
 * @example
 * const pattern: EventPattern = {
 *   type: ["order.paid"],
 *   data: { total: [{ numeric: [">", 100] }], $or: [{ vip: [true] }, { country: ["NZ"] }] },
 * };
 */
export interface EventPattern {
  $or?: PatternAlternatives;
  [field: string]: PatternLeaf | EventPattern | PatternAlternatives | undefined;
}
