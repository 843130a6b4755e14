/**
 * `wildcard` operands: `*` matches any run of characters (including none), `\*` is a literal
 * asterisk, `\\` a literal backslash; any other escape, a trailing backslash and two consecutive
 * unescaped `*` are errors (event-ruler WildcardParser). Matching splits the operand into the
 * literal pieces between stars and finds them left to right, which is linear for practical
 * patterns and never backtracks like a regular expression would.
 */

/** A parsed wildcard: literal pieces between the stars. */
export interface Wildcard {
  /** Literal text when the operand has no star. */
  exact: string | undefined;
  /** With stars: what must start the value, what must end it, and what must appear in between. */
  head: string;
  middle: string[];
  tail: string;
}

/** Parses a wildcard operand, or returns a sentence saying what is wrong with it. */
export function parseWildcard(text: string): Wildcard | string {
  const pieces: string[] = [];
  let current = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "*") {
      if (text[i + 1] === "*") {
        return `consecutive "*" at position ${i} in ${JSON.stringify(text)}; use a single "*"`;
      }
      pieces.push(current);
      current = "";
    } else if (c === "\\") {
      const next = text[i + 1];
      if (next !== "*" && next !== "\\") {
        return `invalid escape at position ${i} in ${JSON.stringify(text)}; a backslash may only precede * (a literal asterisk) or another backslash`;
      }
      current += next;
      i++;
    } else {
      current += c;
    }
  }
  if (pieces.length === 0) return { exact: current, head: "", middle: [], tail: "" };
  return { exact: undefined, head: pieces[0]!, middle: pieces.slice(1), tail: current };
}

/** True when `value` matches the parsed wildcard. */
export function wildcardMatches(w: Wildcard, value: string): boolean {
  if (w.exact !== undefined) return value === w.exact;
  const { head, tail, middle } = w;
  const end = value.length - tail.length;
  if (end < head.length || !value.startsWith(head) || !value.endsWith(tail)) return false;
  let pos = head.length;
  for (const piece of middle) {
    const at = value.indexOf(piece, pos);
    if (at < 0 || at + piece.length > end) return false;
    pos = at + piece.length;
  }
  return true;
}
