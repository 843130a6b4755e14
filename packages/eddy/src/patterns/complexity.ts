/**
 * What a pattern costs to match, per event value it looks at: the measure behind
 * {@link PATTERN_LIMITS}.maxComplexity. Exact values cost nothing (they are one Set lookup however
 * many there are, and `maxValues` bounds them); every field costs 1, every operator that is a test
 * rather than a lookup (`prefix`, `suffix`, `numeric`, `cidr`, `wildcard`, most `anything-but`)
 * costs 1, and a wildcard 1 more per `*` (each is a scan of the value).
 */

import { isPlainObject } from "./describe.js";

/** The cost of one validated matcher object (`{ "numeric": [">", 0] }`). */
export function matcherCost(matcher: Record<string, unknown>): number {
  const op = Object.keys(matcher)[0]!;
  const operand = matcher[op];
  switch (op) {
    case "exists":
    case "equals-ignore-case":
      return 0;
    case "wildcard":
      return wildcardCost(operand as string);
    case "anything-but":
      if (isPlainObject(operand) && "wildcard" in operand) {
        const list = operand.wildcard;
        return (Array.isArray(list) ? list : [list]).reduce<number>(
          (n, w) => n + wildcardCost(w as string),
          0,
        );
      }
      return 1;
    default:
      return 1;
  }
}

function wildcardCost(text: string): number {
  let stars = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === "*") stars++;
  }
  return 1 + stars;
}
