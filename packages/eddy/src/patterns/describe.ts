/**
 * Small helpers for error messages: paths in the form users read them (`data.items[0].sku`) and
 * short descriptions of offending values.
 */

// Keys printed bare after a dot; anything else goes in brackets as a JSON string.
const BARE_KEY = /^[^.[\]"'\s]+$/;

/** Path of field `key` under `parent` ("" is the root). */
export function fieldPath(parent: string, key: string): string {
  if (!BARE_KEY.test(key)) return `${parent}[${JSON.stringify(key)}]`;
  return parent === "" ? key : `${parent}.${key}`;
}

/** Path of element `index` of the array at `parent`. */
export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/** A short, unambiguous rendering of a value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "function") return "a function";
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "number") return String(value);
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * True for `{}`-style objects, not arrays, Dates, Maps and the like. Checked through the object's
 * tag rather than its prototype so that a pattern built in another realm (a `vm` sandbox) passes.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.prototype.toString.call(value) === "[object Object]"
  );
}
