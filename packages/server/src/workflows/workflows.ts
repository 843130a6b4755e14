/**
 * Durable workflows in the engine: what the engine calls (deploys, trigger deliveries, appends)
 * and what the API reads (runs, cancel, retry). See ARCHITECTURE.md in this folder.
 */
import type { CloudEvent, ResolvedFunctionConfig, RunStepView, RunSummary, RunView } from "eddy";
import { uuidv7 } from "eddy/internal";
import type {
  AppendEntry,
  AppendResult,
  Journal,
  NewRun,
  Records,
  RunRow,
  RunStatus,
  StepRow,
} from "../backends/types.js";
import { PARENT_EXTENSION } from "../backends/types.js";
import type { DispatchTarget } from "../dispatch/attempt.js";
import type { DeliveryPlan } from "../dispatch/delivery-plan.js";
import { RunCancelledError, errorInfo } from "../errors/attempt.js";
import { EventTooDeepError, EventTooLargeError, InvalidEventError } from "../errors/http.js";
import type { EventLimits } from "../events/envelope.js";
import { checkEvent, isRefusal } from "../events/envelope.js";
import type { Logger } from "../observability/logger.js";
import type { SpanRecord } from "../observability/tracer.js";
import type { WorkflowMetrics } from "../observability/workflow-metrics.js";
import type { AttemptResult, InvokeRequest } from "../runtime/protocol.js";
import type { StepService } from "../runtime/sandbox.js";
import { serializeError } from "../runtime/worker/serialize.js";
import { WorkflowRunner } from "./runner.js";
import { observedJournal } from "./observed-journal.js";
import { sentRecord } from "./sent.js";
import type { StepDeps } from "./steps.js";
import { wakeWaiting } from "./waits.js";

/** The type of the trigger events of runs started over the API. */
export const START_EVENT_TYPE = "eddy.workflow.start";

/** The source of the trigger events of runs of `workflow` started over the API. */
export function workflowSource(workflow: string): string {
  return `eddy://workflows/${workflow}`;
}

/** A deployed workflow: its function version, and how to run an execution in its pool. */
export interface DeployedWorkflow {
  name: string;
  version: string;
  config: ResolvedFunctionConfig;
  plan: DeliveryPlan;
  pool: { invoke(req: InvokeRequest, timeoutMs: number, steps?: StepService): Promise<AttemptResult> };
}

/** What workflows need from the engine. */
export interface WorkflowDeps extends Omit<StepDeps, "sent" | "children"> {
  logger: Logger;
  /** The size and depth limits of events: a run started over the API has its trigger checked too. */
  limits: EventLimits;
  /** Appends prepared entries (a run started over the API): their results. */
  append(entries: AppendEntry[]): Promise<AppendResult[]>;
  /** Look for due runs at least this often: runs suspended or woken by other processes. */
  pollMs?: number;
  /** Where what `step.sendEvent` published is recorded, for the choreography map. */
  records: Records;
  /** Counts runs, steps and waits; none: metrics are off. */
  metrics?: WorkflowMetrics;
  /** Exports a span per step (OTLP); none: no export. */
  span?: (s: SpanRecord) => void;
}

export class Workflows {
  readonly #deps: WorkflowDeps;
  readonly #runner: WorkflowRunner;
  #deployed = new Map<string, DeployedWorkflow>();
  /** The names of every deployed function, workflows or not. */
  #functions = new Set<string>();

  constructor(options: WorkflowDeps) {
    const { metrics, span } = options;
    const deps = metrics
      ? { ...options, journal: observedJournal(options.journal, { metrics, span }, options.clock) }
      : options;
    this.#deps = deps;
    const sent = async (run: RunRow, index: number, events: CloudEvent[]) => {
      try {
        await deps.records.insert([sentRecord(run, index, events, deps.clock.now())]);
      } catch (err) {
        // The events are published; only the map misses them.
        deps.logger.warn({ err, run: run.id }, "workflow sendEvent: recording what was sent failed");
      }
    };
    const children = {
      start: (parent: RunRow, stepId: string, workflow: string, data: unknown) =>
        this.#startChild(parent, stepId, workflow, data),
      cancel: (runId: string, reason: string) => this.#cancel(runId, reason),
      isFunction: (name: string) => this.#functions.has(name) && !this.#deployed.has(name),
    };
    this.#runner = new WorkflowRunner({ ...deps, sent, children }, deps.logger, deps.pollMs);
  }

  get #journal(): Journal {
    return this.#deps.journal;
  }

  /** The running set changed: these are the workflows now (of every deployed function, the workflows). */
  sync(deployed: DeployedWorkflow[]): void {
    this.#deployed = new Map(deployed.filter((d) => d.config.workflow).map((d) => [d.name, d]));
    this.#functions = new Set(deployed.map((d) => d.name));
    this.#runner.sync(
      [...this.#deployed.values()].map((d) => ({
        name: d.name,
        version: d.version,
        config: d.config,
        invoke: (req, timeoutMs, steps) => d.pool.invoke(req, timeoutMs, steps),
      })),
    );
  }

  /**
   * A workflow's dispatch target: a trigger delivery starts a run (one per delivery, idempotently:
   * the run id is the delivery's `<event seq>.<workflow>`) and is done once the run is durable.
   */
  target(t: DispatchTarget, config: ResolvedFunctionConfig): DispatchTarget {
    if (!config.workflow) return t;
    return { ...t, invoke: (req) => this.#startFromDelivery(t, req) };
  }

  async #startFromDelivery(t: DispatchTarget, req: InvokeRequest): Promise<AttemptResult> {
    const t0 = performance.now();
    const id = req.emitIdPrefix;
    // The trigger keeps the starting attempt's span, as a function's event has it: its steps' parent.
    const event = req.traceparent ? { ...req.event, traceparent: req.traceparent } : req.event;
    const run = { id, workflow: t.name, version: t.version, event, eventSeq: req.eventSeq ?? 0 };
    const logs = { logs: [], logsTruncated: false };
    try {
      await this.#create(run);
    } catch (err) {
      // The run is not durable: the delivery fails and is retried, as any attempt would.
      return { ok: false, error: serializeError(err), ...logs, durationMs: performance.now() - t0 };
    }
    const durationMs = performance.now() - t0;
    return { ok: true, emits: [], sends: [], result: { runId: id }, ...logs, durationMs };
  }

  /** Creates a run durably, and executes it here at once when its workflow has room. */
  async #create(run: NewRun): Promise<void> {
    const wf = this.#deployed.get(run.workflow);
    const leaseMs = wf && this.#runner.hasRoom(run.workflow) ? wf.config.timeoutMs + 10_000 : undefined;
    const { created, leased } = await this.#journal.create(run, leaseMs);
    if (leased) this.#runner.execute(run.workflow, leased);
    else if (created) this.#runner.poke();
  }

  /**
   * Starts a run over the API: an event of type `eddy.workflow.start` with one delivery, to the
   * workflow. Resolves the run's id (known before the run exists: the delivery makes it).
   * undefined: no such workflow is deployed.
   */
  async start(name: string, data: unknown, eventId?: string): Promise<string | undefined> {
    const wf = this.#deployed.get(name);
    if (!wf) return undefined;
    const checked = this.#startEvent(name, data, eventId ?? uuidv7());
    const entry: AppendEntry = {
      event: checked.event,
      dedupKey: checked.dedupKey,
      deliveries: [wf.plan.delivery(checked.event)],
    };
    const [r] = await this.#deps.append([entry]);
    return `${r!.seq}.${name}`;
  }

  /**
   * The child run of an invoke step: its start event (id from the parent and the step, so a
   * repeat dedupes; naming the parent, whom the child's end wakes) is logged without deliveries,
   * and the run created from it directly, by an id the repeat finds again.
   */
  async #startChild(
    parent: RunRow,
    stepId: string,
    name: string,
    data: unknown,
  ): Promise<string | undefined> {
    const wf = this.#deployed.get(name);
    if (!wf) return undefined;
    const checked = this.#startEvent(name, data, `${parent.id}.${stepId}`, { [PARENT_EXTENSION]: parent.id });
    const [r] = await this.#deps.append([
      { event: checked.event, dedupKey: checked.dedupKey, deliveries: [] },
    ]);
    const id = `${r!.seq}.${name}`;
    await this.#create({ id, workflow: name, version: wf.version, event: checked.event, eventSeq: r!.seq });
    return id;
  }

  /** A run's trigger event (`eddy.workflow.start`), checked against the event limits. */
  #startEvent(name: string, data: unknown, id: string, extensions: Record<string, string> = {}) {
    const event: CloudEvent = {
      specversion: "1.0",
      id,
      source: workflowSource(name),
      type: START_EVENT_TYPE,
      time: new Date(this.#deps.clock.now()).toISOString(),
      ...extensions,
      ...(data !== undefined ? { data, datacontenttype: "application/json" } : {}),
    };
    const checked = checkEvent(event, this.#deps.limits);
    if (isRefusal(checked)) {
      const E =
        checked.code === "EDDY_EVENT_TOO_LARGE"
          ? EventTooLargeError
          : checked.code === "EDDY_EVENT_TOO_DEEP"
            ? EventTooDeepError
            : InvalidEventError;
      throw new E(checked.detail, {
        title: checked.title,
        ...(checked.errors ? { errors: checked.errors } : {}),
      });
    }
    return checked;
  }

  /** Events were appended (ingested, emitted, sent): wakes the runs waiting for one of them. */
  async appended(entries: AppendEntry[], results: { status: string }[]): Promise<void> {
    if (this.#deployed.size === 0) return; // every append passes here: nothing to do without workflows
    const events = entries.filter((_, k) => results[k]?.status === "accepted").map((e) => e.event);
    if (events.length === 0) return;
    try {
      const trigger = async (runId: string) => (await this.#journal.get(runId))?.run.event;
      if (await wakeWaiting(this.#journal, events, trigger)) this.#runner.poke();
    } catch (err) {
      // The run still finds the event by its lookback at its timeout, or at its next wake.
      this.#deps.logger.warn({ err }, "workflow waits: waking runs failed");
    }
  }

  /** Whether a workflow of this name is deployed. */
  has(name: string): boolean {
    return this.#deployed.has(name);
  }

  async get(id: string): Promise<RunView | undefined> {
    const found = await this.#journal.get(id);
    if (!found) return undefined;
    const now = this.#deps.clock.now();
    const view: RunView = {
      ...summary(found.run),
      event: found.run.event,
      steps: found.steps.map((s) => stepView(s, found.run.endedAt ?? now)),
    };
    if (found.run.output !== undefined) view.output = found.run.output;
    if (found.run.error) view.error = found.run.error;
    return view;
  }

  async list(q: {
    workflow?: string;
    status?: RunStatus;
    before?: string;
    limit: number;
  }): Promise<RunSummary[]> {
    return (await this.#journal.list(q)).map(summary);
  }

  /** Cancels a run that has not finished, and the child runs it waits for; false when there is none such. */
  cancel(id: string): Promise<boolean> {
    return this.#cancel(id);
  }

  async #cancel(id: string, reason?: string): Promise<boolean> {
    const found = await this.#journal.get(id);
    if (!(await this.#journal.cancel(id, errorInfo(new RunCancelledError(reason))))) return false;
    for (const s of found?.steps ?? []) {
      if (s.kind === "invoke" && s.status === "pending" && s.invoked !== undefined) {
        await this.#cancel(s.invoked, `its parent ${id} was cancelled`);
      }
    }
    // A child's end woke its parent, maybe one of this process's workflows.
    this.#runner.poke();
    return true;
  }

  /**
   * Resumes a failed run from its failed steps, keeping the finished ones; false when it is not
   * failed. The failed child runs of its invoke steps are retried first: the invoke steps, run
   * again, find the same children running again.
   */
  async retry(id: string): Promise<boolean> {
    const found = await this.#journal.get(id);
    for (const s of found?.steps ?? []) {
      if (s.kind === "invoke" && s.status === "failed" && s.invoked !== undefined)
        await this.retry(s.invoked);
    }
    if (!(await this.#journal.retry(id))) return false;
    this.#runner.poke();
    return true;
  }

  close(): Promise<void> {
    return this.#runner.close();
  }
}

function summary(r: RunRow): RunSummary {
  const s: RunSummary = {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    status: r.status,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
  if (r.endedAt !== undefined) s.endedAt = r.endedAt;
  if (r.dueAt !== undefined) s.dueAt = r.dueAt;
  return s;
}

/** A step as the API shows it; a sleep whose time has come is done (it is not written again when it ends). */
function stepView(s: StepRow, now: number): RunStepView {
  const slept = s.kind === "sleep" && s.status === "pending" && (s.wakeAt ?? 0) <= now;
  const v: RunStepView = {
    id: s.id,
    kind: s.kind,
    status: slept ? "done" : s.status,
    startedAt: s.startedAt,
    attempts: s.attempts,
    resultBytes: s.resultBytes,
  };
  const endedAt = slept ? s.wakeAt : s.endedAt;
  if (endedAt !== undefined) v.endedAt = endedAt;
  if (s.result !== undefined) v.result = s.result;
  if (s.error) v.error = s.error;
  if (s.wakeAt !== undefined && !slept && s.status === "pending") v.wakeAt = s.wakeAt;
  if (s.wait) v.waitFor = s.wait.type;
  if (s.compensates !== undefined) v.compensates = s.compensates;
  if (s.invoked !== undefined) v.invoked = s.invoked;
  return v;
}
