/**
 * Runs workflow runs: leases the due ones of each deployed workflow (up to its concurrency),
 * executes each in the workflow's sandbox pool with its journal, and ends the execution by what
 * came back: finished (succeeded, failed), suspended until a step is due, or retried later after
 * an execution that died without an outcome. Between executions a run holds nothing but rows.
 */
import type { ResolvedFunctionConfig } from "eddy";
import type { Clock, ClockTimer } from "../clock/clock.js";
import type { ErrorInfo, LeasedRun, RunOutcome, StepRow, Suspension } from "../backends/types.js";
import { PARENT_EXTENSION } from "../backends/types.js";
import { backoffMs } from "../dispatch/retry-policy.js";
import {
  FunctionLoadError,
  FunctionOutOfMemoryError,
  FunctionTimeoutError,
  RunExecutionsFailedError,
  SandboxCrashedError,
  SandboxHandOffError,
  errorInfo,
} from "../errors/attempt.js";
import { functionSource } from "../events/sources.js";
import type { Logger } from "../observability/logger.js";
import type { AttemptResult, Compensation, InvokeRequest, SandboxError } from "../runtime/protocol.js";
import type { StepService } from "../runtime/sandbox.js";
import type { StepDeps } from "./steps.js";
import { ExecutionSteps } from "./steps.js";

/** A deployed workflow as the runner needs it. */
export interface RunnableWorkflow {
  name: string;
  version: string;
  config: ResolvedFunctionConfig;
  invoke(req: InvokeRequest, timeoutMs: number, steps: StepService): Promise<AttemptResult>;
}

/** What ended an execution without an outcome of the handler's: retried, as a crash is. */
const INFRASTRUCTURE = new Set<string>([
  FunctionTimeoutError.code,
  FunctionOutOfMemoryError.code,
  SandboxCrashedError.code,
  SandboxHandOffError.code,
  FunctionLoadError.code,
]);

/** Slack on top of the timeout before a lease held by a dead process is taken over. */
const LEASE_SLACK_MS = 10_000;

interface Slot {
  wf: RunnableWorkflow;
  inFlight: number;
  pumping: boolean;
  again: boolean;
}

export class WorkflowRunner {
  readonly #deps: StepDeps;
  readonly #log: Logger;
  readonly #pollMs: number | undefined;
  #slots = new Map<string, Slot>();
  #timer: ClockTimer | undefined;
  #timerAt = Infinity;
  #closed = false;
  readonly #running = new Set<Promise<void>>();

  /** @param pollMs look for due runs at least this often (runs suspended by other nodes). */
  constructor(deps: StepDeps, log: Logger, pollMs?: number) {
    this.#deps = deps;
    this.#log = log;
    this.#pollMs = pollMs;
  }

  get #clock(): Clock {
    return this.#deps.clock;
  }

  /** The deployed workflows: runs of these are leased here from now on. */
  sync(workflows: RunnableWorkflow[]): void {
    const next = new Map<string, Slot>();
    for (const wf of workflows) {
      const slot = this.#slots.get(wf.name);
      next.set(
        wf.name,
        slot ? Object.assign(slot, { wf }) : { wf, inFlight: 0, pumping: false, again: false },
      );
    }
    this.#slots = next;
    this.poke();
  }

  /** Looks for due runs of every workflow now (a wake, a deploy). */
  poke(): void {
    for (const name of this.#slots.keys()) this.#pump(name);
  }

  /** Whether the workflow has room to run one more execution at once. */
  hasRoom(name: string): boolean {
    const s = this.#slots.get(name);
    return s !== undefined && s.inFlight < s.wf.config.concurrency.max;
  }

  /** Lease length of one execution of `wf`. */
  leaseMs(wf: RunnableWorkflow): number {
    return wf.config.timeoutMs + LEASE_SLACK_MS;
  }

  /** Executes a run this process leased already (just created), without a lease round trip. */
  execute(name: string, leased: LeasedRun): void {
    const slot = this.#slots.get(name);
    if (!slot) return;
    this.#start(slot, leased);
  }

  #start(slot: Slot, leased: LeasedRun): void {
    slot.inFlight++;
    const p = this.#execute(slot.wf, leased)
      .catch((err: unknown) =>
        this.#log.warn({ err, run: leased.run.id }, "workflow run: an execution failed"),
      )
      .finally(() => {
        slot.inFlight--;
        this.#running.delete(p);
        this.#pump(slot.wf.name);
      });
    this.#running.add(p);
  }

  #pump(name: string): void {
    const slot = this.#slots.get(name);
    if (!slot || this.#closed) return;
    if (slot.pumping) {
      slot.again = true;
      return;
    }
    slot.pumping = true;
    void (async () => {
      try {
        do {
          slot.again = false;
          const free = slot.wf.config.concurrency.max - slot.inFlight;
          if (free <= 0) break;
          const leased = await this.#deps.journal.lease(name, free, this.leaseMs(slot.wf));
          for (const l of leased) this.#start(slot, l);
          if (leased.length === free) slot.again = true;
        } while (slot.again && !this.#closed);
        await this.#arm();
      } catch (err) {
        if (!this.#closed) this.#log.warn({ err, workflow: name }, "workflow runs: leasing failed");
      } finally {
        slot.pumping = false;
        // A pump asked for while the timer was being armed (an execution ended) is not lost.
        if (slot.again && !this.#closed) this.#pump(name);
      }
    })();
  }

  /** One timer for the next due run of any workflow. */
  async #arm(): Promise<void> {
    let at = Infinity;
    // A workflow without room is pumped again when one of its executions ends, not by the timer
    // (its due runs would fire the timer at once, over and over).
    for (const [name, slot] of this.#slots) {
      if (slot.inFlight >= slot.wf.config.concurrency.max) continue;
      at = Math.min(at, (await this.#deps.journal.nextDueAt(name)) ?? Infinity);
    }
    const now = this.#clock.now();
    if (this.#pollMs !== undefined) at = Math.min(at, now + this.#pollMs);
    if (this.#closed || at === Infinity || (this.#timer && this.#timerAt <= at)) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.poke();
      },
      Math.max(0, at - now),
    );
  }

  async #execute(wf: RunnableWorkflow, leased: LeasedRun): Promise<void> {
    const { run, token } = leased;
    const steps = new ExecutionSteps(this.#deps, leased, wf.config);
    const startedAt = this.#clock.now();
    const req: InvokeRequest = {
      event: run.event,
      info: {
        id: `${run.id}.${run.updatedAt}`,
        attempt: run.failures + 1,
        functionName: wf.name,
        version: wf.version,
        deadline: Date.now() + wf.config.timeoutMs,
      },
      emitSource: functionSource(wf.name),
      emitIdPrefix: run.id,
      eventSeq: run.eventSeq,
      workflow: { runId: run.id, steps: leased.steps, now: startedAt },
    };
    const result = await wf.invoke(req, wf.config.timeoutMs, steps.serve);
    // Cancelled meanwhile, or the lease moved on: nothing of ours to write. Shutting down: the
    // sandbox was stopped under it; the next process replays the run from its journal.
    if (steps.lost || this.#closed) return;
    const j = this.#deps.journal;
    if (result.ok && result.suspended) {
      await j.suspend(run.id, token, suspension([...steps.steps.values()], startedAt));
    } else if (result.ok) {
      await this.#finish(leased, { status: "succeeded", output: result.result });
    } else if (result.error.code !== undefined && INFRASTRUCTURE.has(result.error.code)) {
      await this.#died(wf, leased, result.error);
    } else {
      await this.#finish(leased, failedOutcome(result.error, result.compensation));
    }
  }

  /** Finishes a run; a child's end woke its parent in the store, which may be one of ours. */
  async #finish({ run, token }: LeasedRun, outcome: RunOutcome): Promise<void> {
    if (
      (await this.#deps.journal.finish(run.id, token, outcome)) &&
      run.event[PARENT_EXTENSION] !== undefined
    ) {
      this.poke();
    }
  }

  /** An execution ended without an outcome: run it again after a backoff, or give up. */
  async #died(wf: RunnableWorkflow, leased: LeasedRun, error: ErrorInfo): Promise<void> {
    const failures = leased.run.failures + 1;
    const { run, token } = leased;
    if (failures >= wf.config.retries.maxAttempts) {
      const e = errorInfo(new RunExecutionsFailedError(failures, `${error.name}: ${error.message}`));
      await this.#finish(leased, { status: "failed", error: e });
      return;
    }
    const dueAt = this.#clock.now() + backoffMs(wf.config.retries.backoff, failures);
    await this.#deps.journal.suspend(run.id, token, { status: "running", dueAt, failures });
  }

  /** Stops leasing; resolves once the executions in flight ended. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#clock.clearTimeout(this.#timer);
    await Promise.allSettled([...this.#running]);
  }
}

/** How a run whose handler failed ends: failed, or by its compensations (a saga). */
function failedOutcome(err: SandboxError, compensation: Compensation | undefined): RunOutcome {
  const info = (e: SandboxError): ErrorInfo => {
    const { nonRetriable: _n, retryAfterMs: _r, ...rest } = e;
    return rest;
  };
  if (compensation?.status === "compensation_failed") {
    return { status: "compensation_failed", error: info(compensation.error) };
  }
  return { status: compensation ? "compensated" : "failed", error: info(err) };
}

/**
 * How a suspended run waits: until its earliest pending step is due; `waiting` if any waits for an
 * event or a child run. A sleep that was due when the execution started was passed by the replay (sleeps are not
 * written again when they end): it holds nothing up.
 */
export function suspension(steps: StepRow[], startedAt: number): Suspension {
  const pending = steps.filter(
    (s) => s.status === "pending" && !(s.kind === "sleep" && (s.wakeAt ?? 0) <= startedAt),
  );
  const dueAt = Math.min(...pending.map((s) => s.wakeAt ?? Infinity));
  const status = pending.some((s) => s.kind === "wait" || s.kind === "invoke")
    ? "waiting"
    : pending.some((s) => s.kind === "sleep")
      ? "sleeping"
      : "running";
  return dueAt === Infinity ? { status } : { status, dueAt };
}
