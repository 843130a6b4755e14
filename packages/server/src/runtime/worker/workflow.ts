/**
 * One execution of a workflow run, inside the sandbox: the `step` object the handler gets. Steps
 * the journal holds return from it at once (a replay costs no call to the engine); a new step
 * runs here, then is journaled by the engine (a `step` call) before the handler sees its result.
 * A step that blocks (a sleep not due, a wait not resolved, a retry later) never resolves: once
 * nothing else runs, the execution ends `suspended` and the engine resumes it by a replay.
 */
import type {
  CloudEvent,
  EventInput,
  InvokeOptions,
  StepRunOptions,
  WaitForEventOptions,
  WorkflowStep,
} from "eddy";
import { validateCloudEvent } from "eddy";
import { parseDuration } from "eddy/internal";
import type { ResolvedFunctionConfig } from "eddy";
import type { StepRow } from "../../backends/types.js";
import type { StepCall, StepReply, StepRetries, StepRef, WorkflowInvoke } from "../protocol.js";
import { COMPENSATE_PREFIX } from "../protocol.js";
import type { StepPlace } from "../../errors/attempt.js";
import {
  CompensationFailedError,
  NonDeterminismError,
  RunStateTooLargeError,
  StepIdReusedError,
  StepResultTooLargeError,
  TooManyStepsError,
} from "../../errors/attempt.js";
import { safeString, serializeError } from "./serialize.js";

type Limits = NonNullable<ResolvedFunctionConfig["workflow"]>;
type Kind = StepRow["kind"];

/** A finished step's compensation, to run if the run fails (a saga). */
interface Compensable {
  id: string;
  index: number;
  result: unknown;
  options: StepRunOptions;
  compensate: (result: unknown) => unknown;
}

/** How a failed run's compensations ended; the error is the one to report, unserialized. */
export type CompensationOutcome =
  { status: "compensated" } | { status: "compensation_failed"; error: unknown };

const MATCH_PATH = /^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$/;

/** The steps of one execution, and how it ends: the handler's outcome, a suspension, or a fatal error. */
export class WorkflowExecution {
  readonly step: WorkflowStep;
  readonly #journal = new Map<string, StepRow>();
  readonly #byIndex = new Map<number, StepRow>();
  readonly #called = new Map<string, StepPlace>();
  readonly #call: (c: StepCall) => Promise<StepReply>;
  readonly #limits: Limits;
  readonly #now: number;
  readonly #emitSource: string;
  readonly #runId: string;
  #next = 0;
  #stateBytes = 0;
  readonly #compensable: Compensable[] = [];
  #fatalError: { err: unknown } | undefined;
  /** Step bodies and engine calls in flight; blocked steps. */
  #busy = 0;
  #blocked = 0;
  #end!: (r: { suspended: true } | { fatal: unknown }) => void;
  readonly #ended: Promise<{ suspended: true } | { fatal: unknown }>;
  #check: NodeJS.Immediate | undefined;

  constructor(
    w: WorkflowInvoke,
    limits: Limits,
    emitSource: string,
    call: (c: StepCall) => Promise<StepReply>,
  ) {
    for (const s of w.steps) {
      this.#journal.set(s.id, s);
      this.#byIndex.set(s.index, s);
      this.#stateBytes += s.resultBytes;
    }
    this.#limits = limits;
    this.#now = w.now;
    this.#runId = w.runId;
    this.#emitSource = emitSource;
    this.#call = call;
    this.#ended = new Promise((resolve) => (this.#end = resolve));
    this.step = {
      run: (id, fn, options) => this.#run(id, fn, options as StepRunOptions) as never,
      sleep: (id, duration) =>
        this.#sleep(id, { ms: parseDuration(duration, `step.sleep(${safeString(id)})`) }),
      sleepUntil: (id, until) => this.#sleep(id, { until: epochMs(until, id) }),
      waitForEvent: (id, options) => this.#wait(id, options) as never,
      sendEvent: (id, events) => this.#send(id, events),
      invoke: (id, options) => this.#invoke(id, options) as never,
    };
  }

  /**
   * Runs the handler to its end: its value, or `{ suspended }` when it blocked, or it throws the
   * handler's error or a fatal one (a non-determinism, a limit) whatever the handler caught. A
   * handler that failed after steps with a `compensate` finished gets them run, newest first:
   * `{ failed, compensation }` (or `{ suspended }` while a compensation waits for its retry).
   */
  async run(
    handler: () => Promise<unknown>,
  ): Promise<
    { value: unknown } | { suspended: true } | { failed: unknown; compensation: CompensationOutcome }
  > {
    let out: { value: unknown } | { suspended: true } | { fatal: unknown };
    try {
      out = await Promise.race([handler().then((value) => ({ value })), this.#ended]);
    } catch (err) {
      if (this.#fatalError) throw this.#fatalError.err;
      if (this.#compensable.length === 0) throw err;
      const c = await Promise.race([
        this.#compensate().then((compensation) => ({ compensation })),
        this.#ended,
      ]);
      if ("fatal" in c) throw c.fatal;
      return "suspended" in c ? c : { failed: err, compensation: c.compensation };
    }
    if ("fatal" in out) throw out.fatal;
    return out;
  }

  /** Runs the compensations of the finished steps, newest first, each a journaled step. */
  async #compensate(): Promise<CompensationOutcome> {
    for (const c of [...this.#compensable].sort((a, b) => b.index - a.index)) {
      const id = COMPENSATE_PREFIX + c.id;
      const { place, row } = this.#place(id, "compensate", true);
      if (row?.status === "done") continue;
      let error: Error | undefined;
      if (row?.status === "failed") error = toError(row.error!);
      else if (row?.wakeAt !== undefined && row.wakeAt > this.#now) return this.#block();
      else {
        const ref = { id, index: place.index };
        const reply = await this.#attempt(ref, () => c.compensate(clone(c.result)), c.options, c.id);
        if (reply.status === "blocked") return this.#block();
        if (reply.status === "failed") error = toError(reply.error);
      }
      if (error) {
        return {
          status: "compensation_failed",
          error: new CompensationFailedError(c.id, `${error.name}: ${error.message}`),
        };
      }
    }
    return { status: "compensated" };
  }

  /** A step's place in the run, checked against the journal: the non-determinism check. */
  #place(id: unknown, kind: Kind, internal = false): { place: StepPlace; row: StepRow | undefined } {
    if (!internal && (typeof id !== "string" || id.length < 1 || id.length > 256)) {
      throw new TypeError(`step.${kind}: the id must be a string of 1-256 characters, got ${safeString(id)}`);
    }
    const place: StepPlace = { id: id as string, kind, index: this.#next++ };
    const first = this.#called.get(place.id);
    if (first) this.#fatal(new StepIdReusedError(place, first));
    this.#called.set(place.id, place);
    const at = this.#byIndex.get(place.index);
    const row = this.#journal.get(place.id);
    const journaled = at ?? row;
    if (
      journaled &&
      (journaled.id !== place.id || journaled.kind !== kind || journaled.index !== place.index)
    ) {
      this.#fatal(new NonDeterminismError(place, journaled));
    }
    if (!row && place.index >= this.#limits.steps)
      this.#fatal(new TooManyStepsError(place.id, this.#limits.steps));
    return { place, row };
  }

  async #run(id: string, fn: () => unknown, options: StepRunOptions = {}): Promise<unknown> {
    if (typeof fn !== "function") throw new TypeError(`step.run(${safeString(id)}): fn must be a function`);
    const compensate = options.compensate;
    if (compensate !== undefined && typeof compensate !== "function") {
      throw new TypeError(`step.run(${safeString(id)}): options.compensate must be a function`);
    }
    const { place, row } = this.#place(id, "run");
    let result: unknown;
    if (row?.status === "done") result = clone(row.result);
    else {
      if (row?.status === "failed") throw toError(row.error!);
      if (row?.wakeAt !== undefined && row.wakeAt > this.#now) return this.#block();
      result = await this.#answer(await this.#attempt({ id, index: place.index }, fn, options));
    }
    if (compensate) this.#compensable.push({ id, index: place.index, result, options, compensate });
    return result;
  }

  /** Runs a step's body once and journals how it ended: the engine's reply. */
  async #attempt(
    ref: StepRef,
    fn: () => unknown,
    options: StepRunOptions,
    compensates?: string,
  ): Promise<StepReply> {
    const of = compensates === undefined ? {} : { compensates };
    const startedAt = this.#now;
    this.#busy++;
    try {
      let json: string | undefined;
      try {
        json = JSON.stringify(await fn());
      } catch (err) {
        const error = serializeError(err);
        return await this.#engine({ op: "failed", step: ref, error, startedAt, ...retries(options), ...of });
      }
      const bytes = json === undefined ? 0 : Buffer.byteLength(json);
      if (bytes > this.#limits.stepResultBytes) {
        this.#fatal(new StepResultTooLargeError(ref.id, bytes, this.#limits.stepResultBytes));
      }
      if (this.#stateBytes + bytes > this.#limits.stateBytes) {
        this.#fatal(new RunStateTooLargeError(ref.id, this.#stateBytes + bytes, this.#limits.stateBytes));
      }
      this.#stateBytes += bytes;
      const result = json === undefined ? undefined : (JSON.parse(json) as unknown);
      return await this.#engine({ op: "done", step: ref, result, bytes, startedAt, ...of });
    } finally {
      this.#idle();
    }
  }

  async #sleep(id: string, at: { ms?: number; until?: number }): Promise<void> {
    const { place, row } = this.#place(id, "sleep");
    if (row) {
      if (row.status === "done" || (row.wakeAt ?? 0) <= this.#now) return;
      return this.#block();
    }
    await this.#answer(await this.#busyCall({ op: "sleep", step: { id, index: place.index }, ...at }));
  }

  async #wait(id: string, o: WaitForEventOptions): Promise<unknown> {
    const { place, row } = this.#place(id, "wait");
    if (row?.status === "done") return clone(row.result ?? null);
    if (typeof o !== "object" || o === null || typeof o.type !== "string" || o.type === "") {
      throw new TypeError(`step.waitForEvent(${safeString(id)}): options.type must be an event type`);
    }
    if (o.match !== undefined && (typeof o.match !== "string" || !MATCH_PATH.test(o.match))) {
      throw new TypeError(
        `step.waitForEvent(${safeString(id)}): options.match must be a path such as "data.orderId", got ${safeString(o.match)}`,
      );
    }
    if (o.if !== undefined && typeof o.if !== "string") {
      throw new TypeError(`step.waitForEvent(${safeString(id)}): options.if must be a CEL expression`);
    }
    const call: StepCall = {
      op: "wait",
      step: { id, index: place.index },
      type: o.type,
      timeoutMs: parseDuration(o.timeout, `step.waitForEvent(${safeString(id)}) timeout`),
    };
    if (o.match !== undefined) call.match = o.match;
    if (o.if !== undefined) call.if = o.if;
    return this.#answer(await this.#busyCall(call));
  }

  async #send(id: string, input: EventInput | EventInput[]): Promise<{ ids: string[] }> {
    const { place, row } = this.#place(id, "send");
    if (row?.status === "done") return clone(row.result) as { ids: string[] };
    const list = Array.isArray(input) ? input : [input];
    const events = list.map((e, n) => this.#event(e, id, n));
    return (await this.#answer(
      await this.#busyCall({ op: "send", step: { id, index: place.index }, events }),
    )) as { ids: string[] };
  }

  async #invoke(id: string, o: InvokeOptions): Promise<unknown> {
    const { place, row } = this.#place(id, "invoke");
    if (row?.status === "done") return clone(row.result);
    if (row?.status === "failed") throw toError(row.error!);
    if (typeof o !== "object" || o === null || typeof o.function !== "string" || o.function === "") {
      throw new TypeError(`step.invoke(${safeString(id)}): options.function must name a workflow`);
    }
    // Pending: only the engine knows whether the child ended; it answers without starting another.
    const call: StepCall = { op: "invoke", step: { id, index: place.index }, workflow: o.function };
    if (o.data !== undefined) call.data = json(o.data, `step.invoke(${safeString(id)}): options.data`);
    if (o.timeout !== undefined) {
      call.timeoutMs = parseDuration(o.timeout, `step.invoke(${safeString(id)}) timeout`);
    }
    return this.#answer(await this.#busyCall(call));
  }

  /** An event to send: its id defaults to one stable across replays (`<run>.<step>.<n>`), so it dedupes. */
  #event(input: EventInput, step: string, n: number): CloudEvent {
    const event = {
      ...(JSON.parse(safeString(input)) as EventInput),
      specversion: "1.0",
      id: input.id ?? `${this.#runId}.${step}.${n}`,
      source: input.source ?? this.#emitSource,
    } as CloudEvent;
    const problems = validateCloudEvent(event);
    if (problems.length > 0) {
      throw new TypeError(
        `step.sendEvent(${safeString(step)}): invalid event: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join("; ")}`,
      );
    }
    return event;
  }

  async #busyCall(call: StepCall): Promise<StepReply> {
    this.#busy++;
    try {
      return await this.#engine(call);
    } finally {
      this.#idle();
    }
  }

  /** A call to the engine; a refusal (a stale lease, a bad step) ends the execution. */
  async #engine(call: StepCall): Promise<StepReply> {
    try {
      return await this.#call(call);
    } catch (err) {
      return this.#fatal(err);
    }
  }

  #answer(reply: StepReply): Promise<unknown> | unknown {
    if (reply.status === "done") return clone(reply.result);
    if (reply.status === "failed") throw toError(reply.error);
    return this.#block();
  }

  /** A step that cannot go on in this execution: it never resolves; the run suspends once all else stopped. */
  #block(): Promise<never> {
    this.#blocked++;
    this.#schedule();
    return new Promise<never>(() => undefined);
  }

  #idle(): void {
    this.#busy--;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#blocked === 0 || this.#busy > 0 || this.#check) return;
    // After the handler's continuations ran: a step it calls next keeps the execution going.
    this.#check = setImmediate(() => {
      this.#check = undefined;
      if (this.#blocked > 0 && this.#busy === 0) this.#end({ suspended: true });
    });
  }

  #fatal(err: unknown): never {
    this.#fatalError ??= { err };
    this.#end({ fatal: err });
    throw err;
  }
}

function retries(options: StepRunOptions): { retries?: StepRetries } {
  const r = options.retries;
  if (r === undefined) return {};
  const out: StepRetries = {};
  if (r.maxAttempts !== undefined) out.maxAttempts = r.maxAttempts;
  if (r.backoff !== undefined) {
    const b = r.backoff;
    out.backoff = {};
    if (b.initial !== undefined) out.backoff.initialMs = parseDuration(b.initial, "retries.backoff.initial");
    if (b.max !== undefined) out.backoff.maxMs = parseDuration(b.max, "retries.backoff.max");
    if (b.factor !== undefined) out.backoff.factor = b.factor;
    if (b.jitter !== undefined) out.backoff.jitter = b.jitter;
  }
  return { retries: out };
}

function epochMs(until: unknown, id: string): number {
  const ms =
    until instanceof Date ? until.getTime() : typeof until === "string" ? Date.parse(until) : Number(until);
  if (!Number.isFinite(ms)) {
    throw new TypeError(`step.sleepUntil(${safeString(id)}): not a time: ${safeString(until)}`);
  }
  return ms;
}

/** A value as JSON makes it (what the engine receives), or a TypeError naming what is not JSON. */
function json(v: unknown, what: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    throw new TypeError(`${what} must be JSON: ${(err as Error).message}`);
  }
  return text === undefined ? undefined : (JSON.parse(text) as unknown);
}

function clone(v: unknown): unknown {
  return v === undefined ? undefined : (JSON.parse(JSON.stringify(v)) as unknown);
}

function toError(e: { name: string; message: string; code?: string }): Error {
  return Object.assign(new Error(e.message), { name: e.name, ...(e.code ? { code: e.code } : {}) });
}
