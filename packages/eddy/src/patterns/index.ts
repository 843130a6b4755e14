/**
 * EventBridge event patterns over CloudEvents: types, validation and matching. Exactly what `eddy`
 * exports of patterns (the limits and the complexity measure are in `eddy/internal`).
 *
 * @example
 * import { compilePattern } from "eddy";
 * const matches = compilePattern({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } });
 * matches({ specversion: "1.0", id: "1", source: "/shop", type: "order.paid", data: { total: 120 } }); // true
 */

export type {
  AnythingButMatcher,
  AnythingButOperand,
  CidrMatcher,
  EqualsIgnoreCaseMatcher,
  EventPattern,
  ExactValue,
  ExistsMatcher,
  IgnoreCase,
  Matcher,
  MatcherOperator,
  NumericCondition,
  NumericMatcher,
  NumericOperator,
  PatternAlternatives,
  PatternLeaf,
  PrefixMatcher,
  SuffixMatcher,
  WildcardMatcher,
} from "./types.js";
export { validatePattern } from "./validate.js";
export { compilePattern, matchesPattern, type PatternMatcher } from "./match.js";
