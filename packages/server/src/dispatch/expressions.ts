import { parse } from "@marcbachmann/cel-js";
import { InvalidFunctionConfigError } from "eddy";

/** A compiled expression over an event. */
export type EventExpression = (event: unknown) => unknown;

const cache = new Map<string, EventExpression>();

/**
 * Compiles a CEL expression (https://cel.dev) whose only variable is `event`, the CloudEvent.
 * Throws an error naming `path` when the expression does not parse. CEL is typed: numbers from
 * JSON are doubles, so compare with `1.0`, not `1`. Integer results come back as JS numbers.
 *
 * @example
 * compileExpression("event.data.orderId", "idempotencyKey")(event) // "o-1"
 */
export function compileExpression(source: string, path: string): EventExpression {
  const hit = cache.get(source);
  if (hit) return hit;
  let evaluate: (ctx: Record<string, unknown>) => unknown;
  try {
    evaluate = parse(source) as unknown as (ctx: Record<string, unknown>) => unknown;
  } catch (err) {
    throw new InvalidFunctionConfigError(
      path,
      `invalid CEL expression ${JSON.stringify(source)}: ${firstLine(err)}`,
      { cause: err },
    );
  }
  const compiled: EventExpression = (event) => {
    const v = evaluate({ event });
    return typeof v === "bigint" ? Number(v) : v;
  };
  cache.set(source, compiled);
  return compiled;
}

/**
 * Evaluates a key expression: a string for the value, or undefined when the event has no such
 * field or the expression fails (the event then gets no key: it is not limited by it).
 */
export function evaluateKey(expr: EventExpression, event: unknown): string | undefined {
  try {
    const v = expr(event);
    if (v === undefined || v === null) return undefined;
    return typeof v === "string" ? v : JSON.stringify(v);
  } catch {
    return undefined;
  }
}

function firstLine(err: unknown): string {
  return String((err as Error).message ?? err).split("\n")[0]!;
}
