import { describe, expect } from "vitest";
import type { Backend, LeasedRun, NewRun, StepRow } from "../types.js";
import { PARENT_EXTENSION } from "../types.js";
import type { ContractContext } from "./context.js";

let counter = 0;

/** A new run of a workflow of its own (backends may share storage between tests). */
function newRun(workflow = `wf-${process.pid}-${++counter}`, n = ++counter): NewRun {
  return {
    id: `${n}.${workflow}`,
    workflow,
    version: "v1",
    event: { specversion: "1.0", id: `e-${n}`, source: "/contract", type: "contract.start", data: { n } },
    eventSeq: n,
  };
}

function step(id: string, index: number, over: Partial<StepRow> = {}): StepRow {
  return {
    id,
    index,
    kind: "run",
    status: "done",
    result: { id },
    resultBytes: 10,
    attempts: 1,
    startedAt: 1,
    ...over,
  };
}

/** Leases until it gets a run (a run made due by a restart or a lease's end), within a bound. */
async function leaseSoon(b: Backend, workflow: string, ms = 10_000): Promise<LeasedRun[]> {
  const until = Date.now() + ms;
  for (;;) {
    const got = await b.journal.lease(workflow, 10, 60_000);
    if (got.length > 0 || Date.now() > until) return got;
    await new Promise((r) => setImmediate(r));
  }
}

/** Contract of the workflow journal: idempotent starts, fenced leases and writes, suspensions, wakes. */
export function describeJournalContract({ it, create, restart, now }: ContractContext): void {
  describe("journal", () => {
    it("creates a run once per id, due at once or leased to the caller", async () => {
      const b = await create();
      const run = newRun();
      const first = await b.journal.create(run);
      expect(first).toEqual({ created: true });
      expect(await b.journal.create(run, 60_000)).toEqual({ created: false });
      const [leased, ...more] = await b.journal.lease(run.workflow, 10, 60_000);
      expect(more).toEqual([]);
      expect(leased!.run).toMatchObject({
        id: run.id,
        status: "running",
        event: run.event,
        eventSeq: run.eventSeq,
      });
      expect(leased!.steps).toEqual([]);
      const other = newRun(run.workflow);
      const created = await b.journal.create(other, 60_000);
      expect(created.leased?.run.id).toBe(other.id);
      expect(await b.journal.lease(run.workflow, 10, 60_000)).toEqual([]);
    });

    it("writes steps fenced by the lease, and hands them back with the next lease in call order", async () => {
      const b = await create();
      const run = newRun();
      const { leased } = await b.journal.create(run, 60_000);
      const token = leased!.token;
      expect(await b.journal.putStep(run.id, token, step("b", 1))).toBe(true);
      expect(
        await b.journal.putStep(run.id, token, step("a", 0, { status: "pending", attempts: 1, wakeAt: 5 })),
      ).toBe(true);
      expect(await b.journal.putStep(run.id, token, step("a", 0))).toBe(true);
      expect(await b.journal.putStep(run.id, "stale", step("c", 2))).toBe(false);
      expect(await b.journal.suspend(run.id, "stale", { status: "running" })).toBe(false);
      expect(await b.journal.suspend(run.id, token, { status: "running", dueAt: now() - 1 })).toBe(true);
      // The old token is spent once the lease is released.
      expect(await b.journal.putStep(run.id, token, step("c", 2))).toBe(false);
      const [again] = await b.journal.lease(run.workflow, 1, 60_000);
      expect(again!.token).not.toBe(token);
      expect(again!.steps.map((s) => [s.id, s.status])).toEqual([
        ["a", "done"],
        ["b", "done"],
      ]);
    });

    it("suspends until a due time: not leased before it, and nextDueAt says when", async () => {
      const b = await create();
      const run = newRun();
      const { leased } = await b.journal.create(run, 60_000);
      const dueAt = now() + 3_600_000;
      expect(await b.journal.suspend(run.id, leased!.token, { status: "sleeping", dueAt })).toBe(true);
      expect(await b.journal.lease(run.workflow, 10, 60_000)).toEqual([]);
      expect(await b.journal.nextDueAt(run.workflow)).toBe(dueAt);
      expect((await b.journal.get(run.id))!.run).toMatchObject({ status: "sleeping", dueAt });
    });

    it("wakes a waiting run, and a run woken while leased is due at once when it suspends", async () => {
      const b = await create();
      const run = newRun();
      const { leased } = await b.journal.create(run, 60_000);
      const wait = { type: "contract.paid", timeoutAt: now() + 3_600_000, cursor: 0 };
      await b.journal.putStep(run.id, leased!.token, step("w", 0, { kind: "wait", status: "pending", wait }));
      expect(await b.journal.waits(["contract.paid", "other"], 100)).toEqual([
        { runId: run.id, stepId: "w", wait },
      ]);
      await b.journal.wake([run.id]); // while leased: remembered
      await b.journal.suspend(run.id, leased!.token, { status: "waiting" });
      const [again] = await b.journal.lease(run.workflow, 10, 60_000);
      expect(again?.run.id).toBe(run.id);
      await b.journal.suspend(run.id, again!.token, { status: "waiting" });
      expect(await b.journal.lease(run.workflow, 10, 60_000)).toEqual([]);
      expect(await b.journal.nextDueAt(run.workflow)).toBeUndefined();
      await b.journal.wake([run.id]);
      expect((await b.journal.lease(run.workflow, 10, 60_000)).map((l) => l.run.id)).toEqual([run.id]);
    });

    it("finishes and cancels: fenced, final, and no longer waiting", async () => {
      const b = await create();
      const done = newRun();
      const { leased } = await b.journal.create(done, 60_000);
      const wait = { type: "contract.never", timeoutAt: now() + 3_600_000, cursor: 0 };
      await b.journal.putStep(
        done.id,
        leased!.token,
        step("w", 0, { kind: "wait", status: "pending", wait }),
      );
      expect(await b.journal.finish(done.id, "stale", { status: "succeeded", output: 1 })).toBe(false);
      expect(
        await b.journal.finish(done.id, leased!.token, { status: "succeeded", output: { ok: true } }),
      ).toBe(true);
      expect(await b.journal.waits(["contract.never"], 100)).toEqual([]);
      expect((await b.journal.get(done.id))!.run).toMatchObject({
        status: "succeeded",
        output: { ok: true },
      });
      expect(await b.journal.cancel(done.id, { name: "E", message: "x" })).toBe(false);

      const cancelled = newRun(done.workflow);
      const c = await b.journal.create(cancelled, 60_000);
      expect(await b.journal.cancel(cancelled.id, { name: "RunCancelledError", message: "stop" })).toBe(true);
      expect(await b.journal.putStep(cancelled.id, c.leased!.token, step("s", 0))).toBe(false);
      expect(await b.journal.finish(cancelled.id, c.leased!.token, { status: "succeeded" })).toBe(false);
      const got = (await b.journal.get(cancelled.id))!.run;
      expect(got).toMatchObject({
        status: "cancelled",
        error: { name: "RunCancelledError", message: "stop" },
      });
      expect(got.endedAt).toBeDefined();
      expect(await b.journal.lease(done.workflow, 10, 60_000)).toEqual([]);
      expect(await b.journal.get("no-such-run")).toBeUndefined();
    });

    it("a child run's end wakes its parent in the same write: finished, cancelled, while the parent is leased", async () => {
      const b = await create();
      const parent = newRun();
      const p = await b.journal.create(parent, 60_000);
      await b.journal.suspend(parent.id, p.leased!.token, { status: "waiting" });
      const child = (n: number): NewRun => {
        const r = newRun(`${parent.workflow}-child`);
        return { ...r, event: { ...r.event, [PARENT_EXTENSION]: parent.id, data: { n } } };
      };
      const first = child(1);
      const c = await b.journal.create(first, 60_000);
      expect(await b.journal.lease(parent.workflow, 10, 60_000)).toEqual([]);
      expect(await b.journal.finish(first.id, c.leased!.token, { status: "succeeded", output: 1 })).toBe(
        true,
      );
      const [woken] = await b.journal.lease(parent.workflow, 10, 60_000);
      expect(woken?.run.id).toBe(parent.id);
      // Leased while its child is cancelled: due at once when it suspends.
      const second = child(2);
      await b.journal.create(second);
      expect(await b.journal.cancel(second.id, { name: "RunCancelledError", message: "stop" })).toBe(true);
      await b.journal.suspend(parent.id, woken!.token, { status: "waiting" });
      const [again] = await b.journal.lease(parent.workflow, 10, 60_000);
      expect(again?.run.id).toBe(parent.id);
      // An ended parent stays ended.
      await b.journal.finish(parent.id, again!.token, { status: "succeeded" });
      const third = child(3);
      const t = await b.journal.create(third, 60_000);
      await b.journal.finish(third.id, t.leased!.token, {
        status: "failed",
        error: { name: "E", message: "x" },
      });
      expect((await b.journal.get(parent.id))!.run).toMatchObject({ status: "succeeded" });
      expect(await b.journal.lease(parent.workflow, 10, 60_000)).toEqual([]);
    });

    it("retries a failed run: due again, failed steps forgotten, finished ones and pending waits kept", async () => {
      const b = await create();
      const run = newRun();
      const { leased } = await b.journal.create(run, 60_000);
      const t = leased!.token;
      const wait = { type: "contract.retry", timeoutAt: now() + 3_600_000, cursor: 0 };
      await b.journal.putStep(run.id, t, step("a", 0));
      await b.journal.putStep(run.id, t, step("w", 1, { kind: "wait", status: "pending", wait }));
      await b.journal.putStep(
        run.id,
        t,
        step("b", 2, { status: "failed", error: { name: "E", message: "x" } }),
      );
      expect(await b.journal.retry(run.id)).toBe(false); // not ended
      await b.journal.finish(run.id, t, { status: "failed", error: { name: "E", message: "x" } });
      expect(await b.journal.waits(["contract.retry"], 100)).toEqual([]);

      expect(await b.journal.retry(run.id)).toBe(true);
      const got = (await b.journal.get(run.id))!;
      expect(got.run).toMatchObject({ status: "running", failures: 0 });
      expect(got.run.error).toBeUndefined();
      expect(got.run.endedAt).toBeUndefined();
      expect(got.steps.map((s) => s.id)).toEqual(["a", "w"]);
      expect((await b.journal.waits(["contract.retry"], 100)).map((w) => w.stepId)).toEqual(["w"]);
      const [again] = await b.journal.lease(run.workflow, 10, 60_000);
      expect(again!.steps.map((s) => s.id)).toEqual(["a", "w"]);
      expect(await b.journal.retry(run.id)).toBe(false); // running again

      const ok = newRun(run.workflow);
      const c = await b.journal.create(ok, 60_000);
      await b.journal.finish(ok.id, c.leased!.token, { status: "succeeded" });
      expect(await b.journal.retry(ok.id)).toBe(false);
      const saga = newRun(run.workflow);
      const d = await b.journal.create(saga, 60_000);
      await b.journal.finish(saga.id, d.leased!.token, {
        status: "compensation_failed",
        error: { name: "E", message: "y" },
      });
      expect(await b.journal.retry(saga.id)).toBe(true);
      expect(await b.journal.retry("no-such-run")).toBe(false);
    });

    it("lists runs newest first, by workflow and status, in pages", async () => {
      const b = await create();
      const workflow = `wf-list-${++counter}`;
      const runs = [newRun(workflow), newRun(workflow), newRun(workflow)];
      for (const r of runs) await b.journal.create(r);
      const ids = (q: Parameters<Backend["journal"]["list"]>[0]) =>
        b.journal.list(q).then((l) => l.map((r) => r.id));
      expect(await ids({ workflow, limit: 10 })).toEqual(runs.map((r) => r.id).reverse());
      expect(await ids({ workflow, limit: 1, before: runs[2]!.id })).toEqual([runs[1]!.id]);
      expect(await ids({ workflow, status: "succeeded", limit: 10 })).toEqual([]);
      expect(await ids({ workflow: "nope", limit: 10 })).toEqual([]);
    });

    it("after a crash, a run leased by the dead process is leased again with its steps", async () => {
      const b = await create();
      const run = newRun();
      const { leased } = await b.journal.create(run, 1);
      await b.journal.putStep(run.id, leased!.token, step("a", 0));
      const b2 = await restart(b);
      const [again] = await leaseSoon(b2, run.workflow);
      expect(again?.run.id).toBe(run.id);
      expect(again!.steps.map((s) => s.id)).toEqual(["a"]);
      expect(await b2.journal.putStep(run.id, leased!.token, step("b", 1))).toBe(false);
    });
  });
}
