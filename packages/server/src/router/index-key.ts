/**
 * Chooses the top-level field under which {@link PatternIndex} files a rule.
 *
 * A rule can be filed under field F only when every event it matches has, at F, a string equal to
 * one of the rule's exact values or starting with one of its prefixes; then an event whose F holds
 * none of them cannot match and the rule need not be evaluated. That holds for a top-level leaf
 * (outside `$or`, which is AND-ed with the other fields) whose alternatives are all exact strings
 * or case-sensitive `prefix` matchers. Numbers, booleans and null are left out on purpose: exact
 * numbers match numerically (300 and 300.0), which a Map keyed by value cannot mirror.
 */

import type { EventPattern } from "eddy";

/** Where a rule is filed: a field, the exact strings and the prefixes it accepts there. */
export interface IndexKey {
  field: string;
  exact: string[];
  prefixes: string[];
}

// CloudEvents attributes that best split the rules of a bus, most selective first.
const PREFERRED = ["type", "source", "subject"];

/**
 * The best index key of a (validated) pattern, or undefined when the rule must be scanned.
 * Exact-only fields beat fields with prefixes; among equals, {@link PREFERRED} attributes come
 * first, then fields the index already has (fewer maps to probe per event), then key order.
 *
 * @example
 * indexKeyOf({ type: ["order.paid"], data: { total: [1] } }, new Set()); // { field: "type", exact: ["order.paid"], prefixes: [] }
 */
export function indexKeyOf(
  pattern: EventPattern,
  indexedFields: { has(field: string): boolean },
): IndexKey | undefined {
  let best: IndexKey | undefined;
  let bestScore = Infinity;
  for (const field of Object.keys(pattern)) {
    if (field === "$or") continue;
    const key = keyFor(field, pattern[field]);
    if (key === undefined) continue;
    const preferred = PREFERRED.indexOf(field);
    const score =
      (key.prefixes.length > 0 ? 100 : 0) + (preferred >= 0 ? preferred : indexedFields.has(field) ? 10 : 20);
    if (score < bestScore) {
      best = key;
      bestScore = score;
    }
  }
  return best;
}

function keyFor(field: string, leaf: unknown): IndexKey | undefined {
  if (!Array.isArray(leaf)) return undefined;
  const exact: string[] = [];
  const prefixes: string[] = [];
  for (const alternative of leaf as unknown[]) {
    if (typeof alternative === "string") {
      exact.push(alternative);
    } else if (
      typeof alternative === "object" &&
      alternative !== null &&
      typeof (alternative as { prefix?: unknown }).prefix === "string"
    ) {
      prefixes.push((alternative as { prefix: string }).prefix);
    } else {
      return undefined;
    }
  }
  return { field, exact: [...new Set(exact)], prefixes: [...new Set(prefixes)] };
}
