import { Counter, Histogram } from "prom-client";
import type { Registry } from "prom-client";

/** Run durations run from milliseconds (no step waits) to weeks (sleeps, waits for events). */
const RUN_SECONDS = [0.01, 0.1, 1, 10, 60, 600, 3_600, 21_600, 86_400, 604_800];

/**
 * The workflow metrics: runs started and finished, how long they took, steps journaled, waits.
 * Rarer than events and attempts (one update per run or step), so prom-client's own counters.
 */
export class WorkflowMetrics {
  readonly #started: Counter;
  readonly #finished: Counter;
  readonly #duration: Histogram;
  readonly #steps: Counter;
  readonly #waits: Counter;
  readonly #resolved: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.#started = new Counter({
      name: "eddy_workflow_runs_started_total",
      help: "Workflow runs created (by a trigger delivery or POST /v1/workflows/NAME/runs), by workflow.",
      labelNames: ["workflow"],
      registers,
    });
    this.#finished = new Counter({
      name: "eddy_workflow_runs_finished_total",
      help: "Workflow runs finished, by workflow and status (succeeded, failed, cancelled).",
      labelNames: ["workflow", "status"],
      registers,
    });
    this.#duration = new Histogram({
      name: "eddy_workflow_run_duration_seconds",
      help: "Time from a run's creation to its end, of the runs finished by an execution, by workflow and status.",
      labelNames: ["workflow", "status"],
      buckets: RUN_SECONDS,
      registers,
    });
    this.#steps = new Counter({
      name: "eddy_workflow_steps_total",
      help: "Workflow steps journaled (first written), by workflow and kind (run, sleep, wait, send).",
      labelNames: ["workflow", "kind"],
      registers,
    });
    this.#waits = new Counter({
      name: "eddy_workflow_waits_registered_total",
      help: "step.waitForEvent waits registered, by workflow.",
      labelNames: ["workflow"],
      registers,
    });
    this.#resolved = new Counter({
      name: "eddy_workflow_waits_resolved_total",
      help: "step.waitForEvent waits that ended, by workflow and outcome (event: it arrived; timeout).",
      labelNames: ["workflow", "outcome"],
      registers,
    });
  }

  runStarted(workflow: string): void {
    this.#started.inc({ workflow });
  }

  /** A run finished; `durationMs` when known (the run ended in an execution of this process). */
  runFinished(workflow: string, status: string, durationMs?: number): void {
    this.#finished.inc({ workflow, status });
    if (durationMs !== undefined)
      this.#duration.observe({ workflow, status }, Math.max(0, durationMs) / 1000);
  }

  stepJournaled(workflow: string, kind: string): void {
    this.#steps.inc({ workflow, kind });
  }

  waitRegistered(workflow: string): void {
    this.#waits.inc({ workflow });
  }

  waitResolved(workflow: string, outcome: "event" | "timeout"): void {
    this.#resolved.inc({ workflow, outcome });
  }
}
