/**
 * The engine's side of one execution's steps: each step call from the sandbox is checked (the
 * sandbox is not trusted), journaled durably, fenced by the run's lease, and only then answered,
 * so a crash after the answer never runs that step again.
 */
import type { CloudEvent, ResolvedFunctionConfig } from "eddy";
import type { Clock } from "../clock/clock.js";
import type { ErrorInfo, EventLog, Journal, LeasedRun, RunRow, StepRow } from "../backends/types.js";
import { backoffMs } from "../dispatch/retry-policy.js";
import {
  errorInfo,
  InvalidStepError,
  InvokedRunFailedError,
  InvokedWorkflowNotFoundError,
  InvokeTimeoutError,
  RunStateTooLargeError,
  StepResultTooLargeError,
  TooManyStepsError,
} from "../errors/attempt.js";
import type { StepCall, StepReply, StepRetries } from "../runtime/protocol.js";
import { COMPENSATE_PREFIX } from "../runtime/protocol.js";
import { boundError } from "../runtime/worker/serialize.js";
import { compileCondition, lookback, valueAt } from "./waits.js";

/** The most events one `step.sendEvent` publishes. */
export const MAX_SEND_EVENTS = 100;
/** A lookback that moved the cursor this far without a match writes it down. */
const CURSOR_WRITE_AFTER = 1_000;

/** What an execution's steps need from the engine. */
export interface StepDeps {
  journal: Journal;
  log: EventLog;
  clock: Clock;
  /** Publishes a step's events (validated, routed, durable): their ids, or throws why they were refused. */
  publish(events: CloudEvent[], traceparent?: string): Promise<void>;
  /** A sendEvent step at `index` of `run` published `events` (for the map); never throws. */
  sent?(run: RunRow, index: number, events: CloudEvent[]): Promise<void>;
  /** The child runs of invoke steps; none: `step.invoke` is refused. */
  children?: ChildRuns;
}

/** How invoke steps start and stop their child runs. */
export interface ChildRuns {
  /**
   * Starts the child run of step `stepId` of `parent`, once (a second call for the same step
   * resolves the same run): its id, durable when this resolves; undefined: no such workflow.
   */
  start(parent: RunRow, stepId: string, workflow: string, data: unknown): Promise<string | undefined>;
  /** Whether `name` is a deployed function that is not a workflow. */
  isFunction(name: string): boolean;
  /** Cancels a child run (and its own children); false when it had ended. */
  cancel(runId: string, reason: string): Promise<boolean>;
}

/** The statuses of a run that has not ended. */
const ACTIVE_RUN = new Set<RunRow["status"]>(["running", "sleeping", "waiting"]);

/** One execution's steps: the journal as it grows, and the service answering the sandbox. */
export class ExecutionSteps {
  readonly steps = new Map<string, StepRow>();
  /** Set when a write was fenced off: the run was cancelled or its lease moved on. */
  lost = false;
  readonly #deps: StepDeps;
  readonly #leased: LeasedRun;
  readonly #config: ResolvedFunctionConfig;
  readonly #limits: NonNullable<ResolvedFunctionConfig["workflow"]>;
  #stateBytes = 0;

  constructor(deps: StepDeps, leased: LeasedRun, config: ResolvedFunctionConfig) {
    this.#deps = deps;
    this.#leased = leased;
    this.#config = config;
    this.#limits = config.workflow!;
    for (const s of leased.steps) {
      this.steps.set(s.id, s);
      this.#stateBytes += s.resultBytes;
    }
  }

  /** Answers one step call; rejects with why it cannot be taken (the execution then fails). */
  readonly serve = async (call: StepCall): Promise<StepReply> => {
    const prev = this.#check(call);
    if (prev?.status === "done") return { status: "done", result: prev.result };
    if (prev?.status === "failed") return { status: "failed", error: prev.error! };
    switch (call.op) {
      case "done":
        return this.#done(call, prev);
      case "failed":
        return this.#failed(call, prev);
      case "sleep":
        return this.#sleep(call, prev);
      case "wait":
        return this.#wait(call, prev);
      case "send":
        return this.#send(call);
      case "invoke":
        return this.#invoke(call, prev);
      default:
        throw new InvalidStepError(`unknown step call ${JSON.stringify((call as { op?: unknown }).op)}`);
    }
  };

  /** The call's step, checked against the journal; its row if it has one. */
  #check(call: StepCall): StepRow | undefined {
    const s = call?.step as { id?: unknown; index?: unknown } | undefined;
    const kind = kindOf(call);
    const max = kind === "compensate" ? 256 + COMPENSATE_PREFIX.length : 256;
    if (typeof s?.id !== "string" || s.id.length < 1 || s.id.length > max) {
      throw new InvalidStepError("a step id must be a string of 1-256 characters");
    }
    if (kind === "compensate") this.#checkCompensation(s.id, (call as { compensates: unknown }).compensates);
    if (typeof s.index !== "number" || !Number.isInteger(s.index) || s.index < 0) {
      throw new InvalidStepError(`step ${JSON.stringify(s.id)}: bad position ${String(s.index)}`);
    }
    const prev = this.steps.get(s.id);
    if (prev && (prev.index !== s.index || (kind !== undefined && prev.kind !== kind))) {
      throw new InvalidStepError(
        `step ${JSON.stringify(s.id)} is journaled as ${prev.kind} step #${prev.index + 1}`,
      );
    }
    if (!prev && s.index >= this.#limits.steps) throw new TooManyStepsError(s.id, this.#limits.steps);
    return prev;
  }

  /** A compensation undoes a `run` step of this run that finished, and is named after it. */
  #checkCompensation(id: string, of: unknown): void {
    const step = typeof of === "string" ? this.steps.get(of) : undefined;
    if (step?.kind !== "run" || step.status !== "done" || id !== COMPENSATE_PREFIX + String(of)) {
      throw new InvalidStepError(
        `step ${JSON.stringify(id)}: a compensation must name a finished run step of this run`,
      );
    }
  }

  async #put(row: StepRow): Promise<void> {
    const { run, token } = this.#leased;
    if (!(await this.#deps.journal.putStep(run.id, token, row))) {
      this.lost = true;
      throw new InvalidStepError(
        `run ${run.id} is no longer this execution's: it was cancelled or its lease ended`,
      );
    }
    const before = this.steps.get(row.id)?.resultBytes ?? 0;
    this.#stateBytes += row.resultBytes - before;
    this.steps.set(row.id, row);
  }

  #base(call: StepCall, prev: StepRow | undefined, startedAt = this.#deps.clock.now()): StepRow {
    return {
      id: call.step.id,
      index: call.step.index,
      kind: kindOf(call)!,
      status: "pending",
      resultBytes: 0,
      attempts: prev?.attempts ?? 0,
      startedAt: prev?.startedAt ?? startedAt,
      ...("compensates" in call && call.compensates !== undefined ? { compensates: call.compensates } : {}),
    };
  }

  /** A result's JSON size, within the limits. */
  #measure(id: string, result: unknown): number {
    const json = result === undefined ? undefined : JSON.stringify(result);
    const bytes = json === undefined ? 0 : Buffer.byteLength(json);
    if (bytes > this.#limits.stepResultBytes)
      throw new StepResultTooLargeError(id, bytes, this.#limits.stepResultBytes);
    if (this.#stateBytes + bytes > this.#limits.stateBytes) {
      throw new RunStateTooLargeError(id, this.#stateBytes + bytes, this.#limits.stateBytes);
    }
    return bytes;
  }

  async #done(call: Extract<StepCall, { op: "done" }>, prev: StepRow | undefined): Promise<StepReply> {
    const bytes = this.#measure(call.step.id, call.result);
    const row = this.#base(call, prev, startedAt(call.startedAt, this.#deps.clock));
    Object.assign(row, {
      status: "done",
      resultBytes: bytes,
      attempts: row.attempts + 1,
      endedAt: this.#deps.clock.now(),
    });
    if (call.result !== undefined) row.result = call.result;
    await this.#put(row);
    return { status: "done", result: call.result };
  }

  async #failed(call: Extract<StepCall, { op: "failed" }>, prev: StepRow | undefined): Promise<StepReply> {
    const error = boundError(call.error);
    const policy = stepPolicy(this.#config, call.retries);
    const now = this.#deps.clock.now();
    const row = this.#base(call, prev, startedAt(call.startedAt, this.#deps.clock));
    row.attempts += 1;
    const { nonRetriable, retryAfterMs, ...info } = error;
    row.error = info;
    if (nonRetriable === true || row.attempts >= policy.maxAttempts) {
      Object.assign(row, { status: "failed", endedAt: now });
      await this.#put(row);
      return { status: "failed", error: info };
    }
    row.wakeAt = now + (retryAfterMs ?? backoffMs(policy.backoff, row.attempts));
    await this.#put(row);
    return { status: "blocked" };
  }

  async #sleep(call: Extract<StepCall, { op: "sleep" }>, prev: StepRow | undefined): Promise<StepReply> {
    const now = this.#deps.clock.now();
    if (prev) return (prev.wakeAt ?? 0) <= now ? { status: "done" } : { status: "blocked" };
    const until = call.until ?? now + Number(call.ms);
    if (!Number.isFinite(until))
      throw new InvalidStepError(`step ${JSON.stringify(call.step.id)}: not a time to sleep until`);
    const row = this.#base(call, prev);
    row.wakeAt = until;
    if (until <= now) Object.assign(row, { status: "done", endedAt: now });
    await this.#put(row);
    return until <= now ? { status: "done" } : { status: "blocked" };
  }

  async #wait(call: Extract<StepCall, { op: "wait" }>, prev: StepRow | undefined): Promise<StepReply> {
    const { run } = this.#leased;
    let row = prev;
    if (!row) {
      if (typeof call.type !== "string" || call.type === "" || call.type.length > 256) {
        throw new InvalidStepError(
          `step ${JSON.stringify(call.step.id)}: the awaited type must be an event type`,
        );
      }
      if (!Number.isFinite(call.timeoutMs) || call.timeoutMs < 0) {
        throw new InvalidStepError(
          `step ${JSON.stringify(call.step.id)}: bad timeout ${String(call.timeoutMs)}`,
        );
      }
      checkWaitOptions(call);
      row = this.#base(call, prev);
      const timeoutAt = this.#deps.clock.now() + call.timeoutMs;
      row.wakeAt = timeoutAt;
      row.wait = { type: call.type, timeoutAt, cursor: run.eventSeq };
      if (call.match !== undefined) {
        row.wait.matchPath = String(call.match);
        const v = valueAt(run.event, row.wait.matchPath);
        if (v !== undefined) row.wait.matchValue = v;
      }
      if (call.if !== undefined) row.wait.if = String(call.if);
      // Registered first: an event appended from now on is seen by ingest, one before by the lookback.
      await this.#put(row);
    }
    return this.#resolve(row);
  }

  /** Looks back for the wait's event: resolves it, or at its timeout with null, or stays blocked. */
  async #resolve(row: StepRow): Promise<StepReply> {
    const wait = row.wait!;
    const found = await lookback(this.#deps.log, wait, this.#leased.run.event);
    const now = this.#deps.clock.now();
    if (!found.complete) {
      // More to read than one look takes: keep the place and come back at once.
      await this.#put({ ...row, wakeAt: now, wait: { ...wait, cursor: found.cursor } });
      return { status: "blocked" };
    }
    if (found.event || now >= wait.timeoutAt) {
      const result = found.event ?? null;
      const bytes = this.#measure(row.id, result);
      const done: StepRow = { ...row, status: "done", result, resultBytes: bytes, endedAt: now, attempts: 1 };
      done.wait = { ...wait, cursor: found.cursor };
      await this.#put(done);
      return { status: "done", result };
    }
    if (found.cursor - wait.cursor >= CURSOR_WRITE_AFTER || row.wakeAt !== wait.timeoutAt)
      await this.#put({ ...row, wakeAt: wait.timeoutAt, wait: { ...wait, cursor: found.cursor } });
    return { status: "blocked" };
  }

  async #send(call: Extract<StepCall, { op: "send" }>): Promise<StepReply> {
    const events = call.events;
    if (!Array.isArray(events) || events.length < 1 || events.length > MAX_SEND_EVENTS) {
      throw new InvalidStepError(
        `step ${JSON.stringify(call.step.id)}: sendEvent takes 1-${MAX_SEND_EVENTS} events`,
      );
    }
    // Published before journaled, with ids stable across replays: a crash in between dedupes on replay.
    await this.#deps.publish(events);
    await this.#deps.sent?.(this.#leased.run, call.step.index, events);
    const result = { ids: events.map((e) => String(e.id)) };
    const row = this.#base(call, undefined);
    Object.assign(row, {
      status: "done",
      result,
      resultBytes: this.#measure(call.step.id, result),
      attempts: 1,
    });
    row.endedAt = this.#deps.clock.now();
    await this.#put(row);
    return { status: "done", result };
  }

  async #invoke(call: Extract<StepCall, { op: "invoke" }>, prev: StepRow | undefined): Promise<StepReply> {
    let row = prev;
    if (!row) {
      const what = `step ${JSON.stringify(call.step.id)}`;
      const children = this.#deps.children;
      if (!children) throw new InvalidStepError(`${what}: step.invoke is not available here`);
      if (typeof call.workflow !== "string" || call.workflow === "" || call.workflow.length > 256) {
        throw new InvalidStepError(`${what}: invoke takes the name of a workflow`);
      }
      const t = call.timeoutMs;
      if (t !== undefined && (typeof t !== "number" || !Number.isFinite(t) || t < 0)) {
        throw new InvalidStepError(`${what}: bad timeout ${String(t)}`);
      }
      // Started before journaled, idempotently per step: a crash in between finds the same child.
      const child = await children.start(this.#leased.run, call.step.id, call.workflow, call.data);
      row = this.#base(call, undefined);
      if (child === undefined) {
        const plain = children.isFunction(call.workflow);
        return this.#fail(
          row,
          errorInfo(new InvokedWorkflowNotFoundError(call.step.id, call.workflow, plain)),
        );
      }
      row.invoked = child;
      if (t !== undefined) row.wakeAt = this.#deps.clock.now() + t;
      await this.#put(row);
    }
    return this.#join(row);
  }

  /** Reads an invoke step's child: its output ends the step, another end fails it; else blocked until it ends or the timeout. */
  async #join(row: StepRow): Promise<StepReply> {
    const child = (await this.#deps.journal.get(row.invoked!))?.run;
    const now = this.#deps.clock.now();
    if (child?.status === "succeeded") {
      const result = child.output;
      const done: StepRow = {
        ...row,
        status: "done",
        resultBytes: this.#measure(row.id, result),
        attempts: 1,
      };
      done.endedAt = now;
      if (result !== undefined) done.result = result;
      await this.#put(done);
      return { status: "done", result };
    }
    if (!child || !ACTIVE_RUN.has(child.status)) {
      const status = child?.status ?? "missing";
      return this.#fail(
        row,
        errorInfo(new InvokedRunFailedError(row.id, row.invoked!, status, child?.error?.message)),
      );
    }
    if (row.wakeAt !== undefined && now >= row.wakeAt) {
      const reason = `its parent ${this.#leased.run.id} stopped waiting for it (step ${JSON.stringify(row.id)} timed out)`;
      // Lost to the child's own end: that end is the step's outcome.
      if (!(await this.#deps.children!.cancel(row.invoked!, reason))) return this.#join(row);
      return this.#fail(
        row,
        errorInfo(new InvokeTimeoutError(row.id, row.invoked!, row.wakeAt - row.startedAt)),
      );
    }
    return { status: "blocked" };
  }

  /** Ends a step failed for good with `error` (not retried). */
  async #fail(row: StepRow, error: ErrorInfo): Promise<StepReply> {
    const failed: StepRow = { ...row, status: "failed", error, attempts: row.attempts + 1 };
    failed.endedAt = this.#deps.clock.now();
    delete failed.wakeAt;
    await this.#put(failed);
    return { status: "failed", error };
  }
}

const MATCH_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;
const MAX_CONDITION = 4096;

/** A wait's `match` and `if`, checked here too: the sandbox is not trusted. */
function checkWaitOptions(call: Extract<StepCall, { op: "wait" }>): void {
  const what = `step ${JSON.stringify(call.step.id)}`;
  if (
    call.match !== undefined &&
    (typeof call.match !== "string" || call.match.length > 256 || !MATCH_PATH.test(call.match))
  ) {
    throw new InvalidStepError(`${what}: match must be a path such as "data.orderId"`);
  }
  if (call.if !== undefined) {
    if (typeof call.if !== "string" || call.if.length > MAX_CONDITION) {
      throw new InvalidStepError(
        `${what}: if must be a CEL expression of at most ${MAX_CONDITION} characters`,
      );
    }
    compileCondition(call.if);
  }
}

const KIND: Record<StepCall["op"], StepRow["kind"]> = {
  done: "run",
  failed: "run",
  sleep: "sleep",
  wait: "wait",
  send: "send",
  invoke: "invoke",
};

/** The kind of step a call is for: a `done`/`failed` call that names what it compensates is a compensation's. */
function kindOf(call: StepCall): StepRow["kind"] | undefined {
  if ((call?.op === "done" || call?.op === "failed") && call.compensates !== undefined) return "compensate";
  return KIND[call?.op];
}

/** A sandbox's start time of a step, if plausible; else the clock's. */
function startedAt(v: unknown, clock: Clock): number {
  return typeof v === "number" && Number.isFinite(v) ? v : clock.now();
}

/** A step's retry policy: the workflow's, with what the step overrides, checked. */
function stepPolicy(
  config: ResolvedFunctionConfig,
  r: StepRetries | undefined,
): ResolvedFunctionConfig["retries"] {
  const base = config.retries;
  if (r === undefined || typeof r !== "object" || r === null) return base;
  const max = r.maxAttempts ?? base.maxAttempts;
  if (!Number.isInteger(max) || max < 1 || max > 1000) {
    throw new InvalidStepError(
      `step retries.maxAttempts must be an integer from 1 to 1000, got ${String(max)}`,
    );
  }
  const b = { ...base.backoff, ...(r.backoff ?? {}) };
  const ok = (n: unknown) => typeof n === "number" && Number.isFinite(n) && n >= 0;
  if (!ok(b.initialMs) || !ok(b.maxMs) || !ok(b.factor) || !["full", "equal", "none"].includes(b.jitter)) {
    throw new InvalidStepError("step retries.backoff has a bad value");
  }
  return { maxAttempts: max, backoff: b };
}
