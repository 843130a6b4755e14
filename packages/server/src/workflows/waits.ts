/**
 * `step.waitForEvent` without lost waits. A wait is registered (journaled) first, then looked up
 * in the log from the run's trigger event on: an event appended before the registration committed
 * is found by that lookback, one appended after it is seen by ingest, which wakes the run (see
 * {@link wakeWaiting}). Whichever finds it, the run resolves the wait by a lookback, so the first
 * matching event in log order wins, however many arrive and however the wake-ups interleave.
 */
import { parse } from "@marcbachmann/cel-js";
import type { CloudEvent } from "eddy";
import type { EventLog, Journal, WaitSpec } from "../backends/types.js";
import { InvalidStepError } from "../errors/attempt.js";

/** Events read per page of a lookback, and at most per lookback (the cursor keeps the place). */
const PAGE = 500;
const MAX_SCAN = 50_000;

type Condition = (vars: { event: unknown; async: unknown }) => unknown;
const conditions = new Map<string, Condition>();

/** Compiles a wait's `if` (CEL over `event` and `async`); throws InvalidStepError naming it. */
export function compileCondition(source: string): Condition {
  const hit = conditions.get(source);
  if (hit) return hit;
  let c: Condition;
  try {
    c = parse(source) as unknown as Condition;
  } catch (err) {
    const first = String((err as Error).message ?? err).split("\n")[0];
    throw new InvalidStepError(
      `step.waitForEvent: invalid CEL expression in if ${JSON.stringify(source)}: ${first}`,
    );
  }
  if (conditions.size > 1000) conditions.clear();
  conditions.set(source, c);
  return c;
}

/** The value at a dotted path such as "data.orderId", or undefined. */
export function valueAt(value: unknown, path: string): unknown {
  let v = value;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

/** Whether `candidate` satisfies the wait of a run triggered by `trigger`. */
export function matchesWait(wait: WaitSpec, trigger: CloudEvent, candidate: CloudEvent): boolean {
  if (candidate.type !== wait.type) return false;
  if (wait.matchPath !== undefined) {
    const v = valueAt(candidate, wait.matchPath);
    if (v === undefined || JSON.stringify(v) !== JSON.stringify(wait.matchValue)) return false;
  }
  if (wait.if !== undefined) {
    try {
      return compileCondition(wait.if)({ event: trigger, async: candidate }) === true;
    } catch {
      return false; // a field missing from this candidate: not a match
    }
  }
  return true;
}

/**
 * Looks for the first event after `wait.cursor`, received before the wait's timeout, that
 * satisfies the wait. Resolves it; or, when none did, the cursor reached (every event up to it was
 * looked at) and whether the look is complete: false when it stopped at its bound with more to read.
 */
export async function lookback(
  log: EventLog,
  wait: WaitSpec,
  trigger: CloudEvent,
): Promise<{ event?: CloudEvent; cursor: number; complete: boolean }> {
  let cursor = wait.cursor;
  for (let scanned = 0; scanned < MAX_SCAN;) {
    const page = await log.read(cursor, PAGE);
    for (const e of page) {
      // Later events arrived after the timeout: the wait is over whatever comes.
      if (e.receivedAt > wait.timeoutAt) return { cursor, complete: true };
      if (matchesWait(wait, trigger, e.event)) return { event: e.event, cursor: e.seq, complete: true };
      cursor = e.seq;
    }
    scanned += page.length;
    if (page.length < PAGE) return { cursor, complete: true };
  }
  return { cursor, complete: false };
}

/**
 * After an append: wakes the runs whose pending waits one of the new events may satisfy. Resolves
 * whether it woke any (the caller then looks for due runs).
 */
export async function wakeWaiting(
  journal: Journal,
  events: CloudEvent[],
  trigger: (runId: string) => Promise<CloudEvent | undefined>,
): Promise<boolean> {
  const types = [...new Set(events.map((e) => e.type))];
  const waits = await journal.waits(types, 10_000);
  if (waits.length === 0) return false;
  const woken = new Set<string>();
  for (const w of waits) {
    if (woken.has(w.runId)) continue;
    const t = w.wait.if === undefined ? undefined : await trigger(w.runId);
    for (const e of events) {
      // Without `if`, the trigger event is not needed: the match value is in the wait.
      if (e.type === w.wait.type && matchesWait({ ...w.wait, if: t ? w.wait.if : undefined }, t ?? e, e)) {
        woken.add(w.runId);
        break;
      }
    }
  }
  await journal.wake([...woken]);
  return woken.size > 0;
}
