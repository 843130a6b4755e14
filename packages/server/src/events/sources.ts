/**
 * The `source` of the events Eddy makes itself, in one place: what routes them, what the records
 * show, and how an attempt's trigger is named for OpenTelemetry.
 */

/** The default source of the events a function emits. */
export function functionSource(fn: string): string {
  return `eddy://functions/${fn}`;
}

/** The source of `eddy.budget.exceeded` events. */
export const BUDGET_SOURCE = "eddy://budgets";

/** The source of the tick events of a function's schedules; routed to that function only. */
export function scheduleSource(fn: string): string {
  return `eddy://schedules/${fn}`;
}

/** The source of the events of a function's HTTP requests (async, and the records of sync ones). */
export function routeSource(fn: string): string {
  return `eddy://routes/${fn}`;
}

/** The source of the messages sent to a queue. */
export function queueSource(queue: string): string {
  return `eddy://queues/${queue}`;
}

/**
 * The OpenTelemetry `faas.trigger` of an attempt of `fn` at an event from `source`: "http" for
 * its routes, "timer" for its schedules, "pubsub" for events and queue messages.
 * https://opentelemetry.io/docs/specs/semconv/faas/faas-spans/
 */
export function faasTrigger(fn: string, source: string): "http" | "timer" | "pubsub" {
  if (source === routeSource(fn)) return "http";
  if (source === scheduleSource(fn)) return "timer";
  return "pubsub";
}
