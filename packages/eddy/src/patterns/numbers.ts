/**
 * Numbers as EventBridge compares them: within [-5e9, 5e9] and to six decimal places
 * (event-ruler ComparableNumber). Both sides are turned into integer micro-units (value × 10^6),
 * which stay below 2^53 and so compare exactly as doubles.
 */

import { NUMERIC_DECIMALS, NUMERIC_MAX } from "./limits.js";

const SCALE = 10 ** NUMERIC_DECIMALS;
const MAX_MICROS = NUMERIC_MAX * SCALE;
// Relative slack for the float error of `value * 1e6` (a couple of ulps).
const EPSILON = 2 ** -50;

/**
 * Micro-units of a number written in a pattern, or a sentence saying why it cannot be compared.
 * Pattern numbers are checked strictly (event-ruler rejects the rule): the decimals are counted on
 * the shortest decimal form of the double, which is what the JSON text said for any sane literal.
 */
export function patternMicros(value: number): number | string {
  if (!Number.isFinite(value)) return `${value} is not a finite number`;
  if (Math.abs(value) > NUMERIC_MAX) {
    return `${value} is out of range; numeric matching supports -5e9 to 5e9 inclusive`;
  }
  const text = String(value);
  const e = text.indexOf("e");
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf(".");
  const fraction = dot < 0 ? "" : mantissa.slice(dot + 1);
  const decimals = Math.max(0, fraction.length - exponent);
  if (decimals > NUMERIC_DECIMALS) {
    return `${text} has ${decimals} digits after the decimal point; numeric matching keeps ${NUMERIC_DECIMALS}`;
  }
  // Exact: at most 6 decimals and |value| <= 5e9 keep value * 1e6 within a rounding error of an
  // integer below 2^53.
  return Math.round(value * SCALE);
}

/**
 * Micro-units of a number found in an event, or NaN when EventBridge would not treat it as a
 * comparable number: outside [-5e9, 5e9], or with more than six significant decimals (the current
 * event-ruler refuses those rather than truncating, so they match no numeric condition). Values
 * within float noise of six decimals (0.1 + 0.2) count as that value.
 */
export function eventMicros(value: number): number {
  if (!(value >= -NUMERIC_MAX && value <= NUMERIC_MAX)) return NaN;
  const scaled = value * SCALE;
  const micros = Math.round(scaled);
  const diff = scaled - micros;
  const slack = Math.abs(scaled) * EPSILON;
  return diff <= slack && -diff <= slack ? micros : NaN;
}

/** Smallest and largest micro-unit values, the implicit bounds of one-sided comparisons. */
export const MICROS_MIN = -MAX_MICROS;
/** See {@link MICROS_MIN}. */
export const MICROS_MAX = MAX_MICROS;
