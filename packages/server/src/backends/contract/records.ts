import { describe, expect } from "vitest";
import type { EmissionRow } from "../types.js";
import type { ContractContext } from "./context.js";
import { boom, entry, record, WINDOW } from "./fixtures.js";

/** Contract of the records: invocation records (by settle or inserted), metering, retention. */
export function describeRecordsContract({ it, create }: ContractContext): void {
  describe("records and metering", () => {
    it("keeps an invocation record per attempt, queryable newest first", async () => {
      const b = await create();
      await b.log.append([entry(["f"])], WINDOW);
      const [d] = await b.queue.lease("f", 1, 5_000);
      const rec = record(d!, { status: "failed", outcome: "retry", error: boom() });
      rec.logs = [{ level: "info", time: Date.now(), msg: "hello", fields: { a: 1 } }];
      await b.queue.settle(
        d!,
        { kind: "retry", dueAt: Date.now(), error: boom() },
        { invocation: rec, ...WINDOW },
      );
      const [d2] = await b.queue.lease("f", 1, 5_000);
      const rec2 = record(d2!, { startedAt: rec.startedAt + 1 });
      await b.queue.settle(d2!, { kind: "ack" }, { invocation: rec2, ...WINDOW });
      expect(await b.records.getInvocation(rec.id)).toEqual(rec);
      const list = await b.records.queryInvocations({ fn: "f", limit: 10 });
      expect(list.map((r) => r.id)).toEqual([rec2.id, rec.id]);
      const byDelivery = await b.records.queryInvocations({ deliveryId: d!.id, limit: 10 });
      expect(byDelivery).toHaveLength(2);
      const failed = await b.records.queryInvocations({ fn: "f", status: "failed", limit: 10 });
      expect(failed.map((r) => r.id)).toEqual([rec.id]);
    });

    it("stores records of attempts without a delivery, with their result, once per id", async () => {
      const b = await create();
      const result = { status: 201, headers: [["content-type", "application/json"]], body: '{"ok":true}' };
      const rec = {
        id: `sync-${Date.now()}`,
        fn: "h",
        version: "v1",
        deliveryId: "req-1",
        eventId: "req-1",
        eventSource: "eddy://routes/h",
        eventType: "eddy.http.request",
        attempt: 1,
        status: "succeeded" as const,
        outcome: "ack" as const,
        startedAt: Date.now(),
        durationMs: 0.5,
        logs: [],
        result,
      };
      await b.records.insert([
        rec,
        { ...rec, id: `${rec.id}-big`, result: undefined, resultTruncated: true },
      ]);
      expect(await b.records.getInvocation(rec.id)).toEqual(rec);
      expect((await b.records.getInvocation(`${rec.id}-big`))?.resultTruncated).toBe(true);
      await b.records.insert([{ ...rec, status: "failed" }]);
      expect((await b.records.getInvocation(rec.id))?.status).toBe("succeeded");
      // A settled attempt's record keeps its result too.
      await b.log.append([entry(["h"])], WINDOW);
      const [d] = await b.queue.lease("h", 1, 5_000);
      const settled = record(d!, { result: { n: [1, "two"] } });
      await b.queue.settle(d!, { kind: "ack" }, { invocation: settled, ...WINDOW });
      expect((await b.records.getInvocation(settled.id))?.result).toEqual({ n: [1, "two"] });
    });

    it("adds up what the newest records in a window published, reading only records that did", async () => {
      const b = await create();
      // A window of its own, far ahead: records other cases write are never in it.
      const t = Date.now() + 10 * 365 * 86_400_000 + Math.floor(Math.random() * 1e9);
      await b.log.append([entry(["em"]), entry(["em"]), entry(["em"]), entry(["quiet"])], WINDOW);
      const [x, y, z] = await b.queue.lease("em", 3, 5_000);
      const [q] = await b.queue.lease("quiet", 1, 5_000);
      const a = record(x!, { startedAt: t, emits: ["a.x", "b.y"], sends: ["q1"] });
      const settle = (d: typeof x, rec: typeof a) =>
        b.queue.settle(d!, { kind: "ack" }, { invocation: rec, ...WINDOW });
      await settle(x, a);
      await settle(y, record(y!, { startedAt: t + 1, emits: ["a.x"] }));
      await settle(z, record(z!, { startedAt: t - 1, emits: ["before.window"] }));
      await settle(q, record(q!, { startedAt: t + 5 }));
      const sync = { ...record(x!, { startedAt: t + 3, emits: ["h.e"] }), id: `sync-${t}`, fn: "h" };
      await b.records.insert([sync]);
      expect((await b.records.getInvocation(a.id))?.emits).toEqual(["a.x", "b.y"]);
      expect((await b.records.getInvocation(a.id))?.sends).toEqual(["q1"]);
      const sorted = (rows: EmissionRow[]) =>
        [...rows].sort((m, n) =>
          `${m.fn} ${m.kind} ${m.target}`.localeCompare(`${n.fn} ${n.kind} ${n.target}`),
        );
      const all = await b.records.emissions({ since: t, limit: 10 });
      expect(sorted(all.rows)).toEqual([
        { fn: "em", kind: "emits", target: "a.x", attempts: 2, lastAt: t + 1 },
        { fn: "em", kind: "emits", target: "b.y", attempts: 1, lastAt: t },
        { fn: "em", kind: "sends", target: "q1", attempts: 1, lastAt: t },
        { fn: "h", kind: "emits", target: "h.e", attempts: 1, lastAt: t + 3 },
      ]);
      expect([all.records, all.truncated]).toEqual([3, false]);
      // The newest two of the three that published: the record without emits is not one of them.
      const newest = await b.records.emissions({ since: t, limit: 2 });
      expect(sorted(newest.rows)).toEqual([
        { fn: "em", kind: "emits", target: "a.x", attempts: 1, lastAt: t + 1 },
        { fn: "h", kind: "emits", target: "h.e", attempts: 1, lastAt: t + 3 },
      ]);
      expect([newest.records, newest.truncated]).toEqual([2, true]);
    });

    it("sums metered usage per function, without skipped attempts", async () => {
      const b = await create();
      await b.log.append([entry(["m"]), entry(["m"]), entry(["m"])], WINDOW);
      const [x, y, z] = await b.queue.lease("m", 3, 5_000);
      const t = Date.now();
      await b.queue.settle(
        x!,
        { kind: "ack" },
        { invocation: record(x!, { startedAt: t, billedMs: 100, memoryMb: 512 }), ...WINDOW },
      );
      await b.queue.settle(
        y!,
        { kind: "ack" },
        { invocation: record(y!, { startedAt: t, billedMs: 300, memoryMb: 1024 }), ...WINDOW },
      );
      await b.queue.settle(
        z!,
        { kind: "ack" },
        {
          invocation: record(z!, { startedAt: t, status: "skipped", billedMs: 0, memoryMb: 1024 }),
          ...WINDOW,
        },
      );
      const [row] = (await b.records.usage(t - 1, t + 1)).filter((r) => r.fn === "m");
      expect(row).toEqual({ fn: "m", invocations: 2, billedMs: 400, gbSeconds: 0.1 * 0.5 + 0.3 * 1 });
      expect(await b.records.usage(t + 1, t + 2)).toEqual([]);
    });

    it("adds metered minutes of requests without records to their usage, and prunes them", async () => {
      const b = await create();
      const minute = Math.floor(Date.now() / 60_000) * 60_000;
      const fn = `metered-${minute}`;
      await b.records.meter([{ fn, minute, invocations: 3, billedMs: 30, mbMs: 30 * 1024 }]);
      await b.records.meter([
        { fn, minute, invocations: 2, billedMs: 20, mbMs: 20 * 1024 },
        { fn, minute: minute - 60_000, invocations: 1, billedMs: 5, mbMs: 5 * 1024 },
      ]);
      const mine = async (since: number, until: number) =>
        (await b.records.usage(since, until)).filter((r) => r.fn === fn);
      expect(await mine(minute, minute + 60_000)).toEqual([
        { fn, invocations: 5, billedMs: 50, gbSeconds: 0.05 },
      ]);
      expect(await mine(minute - 60_000, minute + 60_000)).toEqual([
        { fn, invocations: 6, billedMs: 55, gbSeconds: 0.055 },
      ]);
      await b.records.prune({ before: minute, logsBefore: minute });
      expect(await mine(0, minute + 60_000)).toEqual([{ fn, invocations: 5, billedMs: 50, gbSeconds: 0.05 }]);
    });

    it("prunes logs, then records, by age", async () => {
      const b = await create();
      await b.log.append([entry(["p"]), entry(["p"])], WINDOW);
      const [old, young] = await b.queue.lease("p", 2, 5_000);
      const now = Date.now();
      const logs = [{ level: "info" as const, time: now, msg: "x" }];
      await b.queue.settle(
        old!,
        { kind: "ack" },
        { invocation: record(old!, { startedAt: now - 10_000, logs }), ...WINDOW },
      );
      await b.queue.settle(
        young!,
        { kind: "ack" },
        { invocation: record(young!, { startedAt: now, logs }), ...WINDOW },
      );
      await b.records.prune({ before: 0, logsBefore: now - 5_000 });
      const [y1, o1] = await b.records.queryInvocations({ fn: "p", limit: 10 });
      expect([y1!.logs.length, o1!.logs.length, o1!.logsTruncated]).toEqual([1, 0, true]);
      await b.records.prune({ before: now - 5_000, logsBefore: 0 });
      expect((await b.records.queryInvocations({ fn: "p", limit: 10 })).map((r) => r.id)).toEqual([y1!.id]);
      expect((await b.records.queryInvocations({ fn: "p", since: now + 1, limit: 10 })).length).toBe(0);
    });
  });
}
