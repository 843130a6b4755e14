/**
 * The journal as observability sees it: a wrapper that counts what the engine writes (runs
 * created and finished, steps first journaled, waits registered and resolved) once each write is
 * durable, and exports a span per step, so neither the runner nor the steps carry such calls. Every other method, including
 * ones added to the journal later, goes to the wrapped journal unchanged.
 */
import type { Journal, LeasedRun, RunOutcome, StepRow } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import { newSpanId, parseTraceparent } from "../observability/trace-context.js";
import type { SpanRecord } from "../observability/tracer.js";
import type { WorkflowMetrics } from "../observability/workflow-metrics.js";

/** Most executions tracked at once; past it the oldest is dropped (an execution fenced off never finishes). */
const MAX_TRACKED = 10_000;

/** What the wrapper knows of one execution, by its lease token. */
interface Execution {
  runId: string;
  workflow: string;
  createdAt: number;
  /** The run's trace: its trigger's traceparent (the span of the attempt that started it). */
  trace: { traceId: string; spanId: string } | undefined;
  /** Step ids journaled in the run: a write of one of these is not a new step. */
  steps: Set<string>;
}

/** Where the wrapper reports: metrics, and spans when they are exported. */
export interface JournalObserver {
  metrics: WorkflowMetrics;
  span?: ((s: SpanRecord) => void) | undefined;
}

/** `journal`, observed. */
export function observedJournal(journal: Journal, observer: JournalObserver, clock: Clock): Journal {
  const { metrics, span } = observer;
  const executions = new Map<string, Execution>();
  const track = (l: LeasedRun) => {
    if (executions.size >= MAX_TRACKED) executions.delete(executions.keys().next().value!);
    const steps = new Set(l.steps.map((s) => s.id));
    executions.set(l.token, {
      runId: l.run.id,
      workflow: l.run.workflow,
      createdAt: l.run.createdAt,
      trace: span && parseTraceparent(l.run.event.traceparent),
      steps,
    });
    return l;
  };
  const step = (x: Execution, row: StepRow) => {
    if (!x.steps.has(row.id)) {
      x.steps.add(row.id);
      metrics.stepJournaled(x.workflow, row.kind);
      if (row.kind === "wait") metrics.waitRegistered(x.workflow);
    }
    if (row.kind === "wait" && row.status === "done") {
      metrics.waitResolved(x.workflow, row.result === null ? "timeout" : "event");
    }
    if (span && x.trace) spanOf(x, row, span);
  };
  const overrides: Partial<Journal> = {
    async create(run, leaseMs) {
      const r = await journal.create(run, leaseMs);
      if (r.created) metrics.runStarted(run.workflow);
      if (r.leased) track(r.leased);
      return r;
    },
    async lease(workflow, limit, leaseMs) {
      return (await journal.lease(workflow, limit, leaseMs)).map(track);
    },
    async putStep(runId, token, row) {
      const x = executions.get(token);
      const ok = await journal.putStep(runId, token, row);
      if (ok && x) step(x, row);
      return ok;
    },
    async suspend(runId, token, suspension) {
      executions.delete(token);
      return journal.suspend(runId, token, suspension);
    },
    async finish(runId, token, outcome: RunOutcome) {
      const x = executions.get(token);
      executions.delete(token);
      const ok = await journal.finish(runId, token, outcome);
      if (ok) metrics.runFinished(workflowOf(runId), outcome.status, x && clock.now() - x.createdAt);
      return ok;
    },
    async cancel(runId, error) {
      const ok = await journal.cancel(runId, error);
      if (ok) metrics.runFinished(workflowOf(runId), "cancelled");
      return ok;
    },
  };
  return new Proxy(journal, {
    get(target, prop) {
      const own = overrides[prop as keyof Journal];
      if (own) return own;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A run's id is `<event seq>.<workflow>`. */
function workflowOf(runId: string): string {
  return runId.slice(runId.indexOf(".") + 1);
}

/**
 * A step's span, once its interval is known: when it ends (done or failed), and a sleep when it is
 * registered (it ends at its wake time; it is not written again). A child of the run's trigger span.
 */
function spanOf(x: Execution, row: StepRow, span: (s: SpanRecord) => void): void {
  const end = row.kind === "sleep" && row.status === "pending" ? row.wakeAt : row.endedAt;
  if (end === undefined || (row.status === "pending" && row.kind !== "sleep")) return;
  span({
    traceId: x.trace!.traceId,
    spanId: newSpanId(),
    parentSpanId: x.trace!.spanId,
    name: `eddy.step ${row.kind}`,
    start: row.startedAt,
    end: Math.max(row.startedAt, end),
    attributes: {
      "faas.name": x.workflow,
      "eddy.run_id": x.runId,
      "eddy.step.id": row.id,
      "eddy.step.kind": row.kind,
      "eddy.step.attempts": row.attempts,
      "eddy.step.status": row.status,
    },
    ...(row.error ? { error: `${row.error.name}: ${row.error.message}` } : {}),
  });
}
