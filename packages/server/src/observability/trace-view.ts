import type { TraceNode, TraceView } from "eddy";
import type { InvocationRecord, StoredEvent, TraceIds } from "../backends/types.js";

/** A trace as the built-in view returns it, and its nodes (the API's types). */
export type { TraceNode, TraceView };

/**
 * Builds the tree of a trace from the stored events (each with its ingest span) and the
 * invocation records (each with its attempt span): an attempt's parent is the event that
 * triggered it, an emitted event's parent is the attempt that emitted it.
 */
export function buildTraceView(
  traceId: string,
  events: (StoredEvent & { trace: TraceIds })[],
  invocations: InvocationRecord[],
): TraceView {
  const nodes: TraceNode[] = [];
  for (const e of events) {
    const node: TraceNode = {
      kind: "event",
      spanId: e.trace.spanId,
      name: e.event.type,
      start: e.receivedAt,
      durationMs: 0,
      id: e.event.id,
      source: e.event.source,
      children: [],
    };
    if (e.trace.parentSpanId) node.parentSpanId = e.trace.parentSpanId;
    nodes.push(node);
  }
  for (const r of invocations) {
    if (!r.trace) continue;
    const node: TraceNode = {
      kind: "invocation",
      spanId: r.trace.spanId,
      name: r.fn,
      start: r.startedAt,
      durationMs: r.durationMs,
      id: r.id,
      status: r.status,
      attempt: r.attempt,
      outcome: r.outcome,
      children: [],
    };
    if (r.trace.parentSpanId) node.parentSpanId = r.trace.parentSpanId;
    if (r.coldStart) node.coldStart = true;
    if (r.error) node.error = `${r.error.name}: ${r.error.message}`;
    nodes.push(node);
  }
  const bySpan = new Map(nodes.map((n) => [n.spanId, n]));
  const roots: TraceNode[] = [];
  for (const n of nodes) {
    const parent = n.parentSpanId ? bySpan.get(n.parentSpanId) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const order = (list: TraceNode[]) => {
    list.sort((a, b) => a.start - b.start || (a.attempt ?? 0) - (b.attempt ?? 0));
    for (const n of list) order(n.children);
  };
  order(roots);
  const start = Math.min(...nodes.map((n) => n.start));
  const end = Math.max(...nodes.map((n) => n.start + n.durationMs));
  return {
    traceId,
    durationMs: nodes.length ? Math.round((end - start) * 1000) / 1000 : 0,
    events: events.length,
    invocations: invocations.length,
    roots,
  };
}
