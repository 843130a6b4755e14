import { describe, expect } from "vitest";
import type { ContractContext } from "./context.js";
import { boom, entry, record, WINDOW } from "./fixtures.js";

/** Contract of the flow-control primitives: groups, FIFO, priority, batches, debounce, cancel, kv on settle. */
export function describeFlowContract({ it, create, now, elapse }: ContractContext): void {
  describe("flow control", () => {
    it("limits leases per group and leaves ungrouped deliveries free", async () => {
      const b = await create();
      await b.log.append(
        [
          entry([{ fn: "f", groupKey: "a" }]),
          entry([{ fn: "f", groupKey: "a" }]),
          entry([{ fn: "f", groupKey: "a" }]),
          entry([{ fn: "f", groupKey: "b" }]),
          entry([{ fn: "f" }]),
        ],
        WINDOW,
      );
      const first = await b.queue.lease("f", 10, 5_000, { perGroup: 2 });
      expect(first.map((d) => d.groupKey ?? null)).toEqual(["a", "a", "b", null]);
      expect(await b.queue.lease("f", 10, 5_000, { perGroup: 2 })).toHaveLength(0);
      await b.queue.settle(first[0]!, { kind: "ack" }, { invocation: record(first[0]!), ...WINDOW });
      const next = await b.queue.lease("f", 10, 5_000, { perGroup: 2 });
      expect(next.map((d) => d.groupKey)).toEqual(["a"]);
    });

    it("settles many grouped acks at once, each by its own lease: a lost lease's ack changes nothing", async () => {
      const b = await create();
      // g0 has one delivery (the one whose lease is lost below), g1 and g2 two each.
      const groups = ["g0", "g1", "g2", "g1", "g2"];
      await b.log.append(
        groups.map((g) => entry([{ fn: "m", groupKey: g }])),
        WINDOW,
      );
      const short = await b.queue.lease("m", 1, 100, { perGroup: 1 });
      expect(short[0]!.groupKey).toBe("g0");
      await elapse(150);
      // The short lease has expired: its delivery is leased again, with the first of g1 and g2.
      const current = await b.queue.lease("m", 10, 5_000, { perGroup: 1 });
      expect(current.map((d) => d.groupKey).sort()).toEqual(["g0", "g1", "g2"]);
      expect(current.find((d) => d.groupKey === "g0")!.id).toBe(short[0]!.id);
      // All at once, the lost lease's ack between the current ones (a backend may join them).
      const [g0, g1, g2] = ["g0", "g1", "g2"].map((g) => current.find((d) => d.groupKey === g)!);
      const results = await Promise.all(
        [g1!, g0!, short[0]!, g2!].map((d) =>
          b.queue.settle(d, { kind: "ack" }, { invocation: record(d), ...WINDOW }),
        ),
      );
      expect(results.map((r) => r.settled)).toEqual([true, true, false, true]);
      // Each ack frees its group's slot: the second deliveries of g1 and g2 are leasable.
      const next = await b.queue.lease("m", 10, 5_000, { perGroup: 1 });
      expect(next.map((d) => d.groupKey).sort()).toEqual(["g1", "g2"]);
    });

    it("leases FIFO groups in order, one at a time, and a retry blocks its group", async () => {
      const b = await create();
      const entries = [1, 2, 3].map(() => entry([{ fn: "q", groupKey: "g" }]));
      entries.push(entry([{ fn: "q", groupKey: "h" }]));
      await b.log.append(entries, WINDOW);
      const [g1, h1] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      expect([g1!.event.id, h1!.event.id]).toEqual([entries[0]!.event.id, entries[3]!.event.id]);
      await b.queue.settle(g1!, { kind: "retry", dueAt: now() + 150, error: boom() }, WINDOW);
      // g's head waits for its retry; nothing behind it may overtake.
      expect(await b.queue.lease("q", 10, 5_000, { ordered: true })).toHaveLength(0);
      await elapse(200);
      const [again] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      expect(again!.event.id).toBe(entries[0]!.event.id);
      await b.queue.settle(again!, { kind: "ack" }, WINDOW);
      const [g2] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      expect(g2!.event.id).toBe(entries[1]!.event.id);
    });

    it("dead-lettering the head of a FIFO group unblocks the group", async () => {
      const b = await create();
      const entries = [1, 2].map(() => entry([{ fn: "q", groupKey: "g" }]));
      await b.log.append(entries, WINDOW);
      const [head] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      await b.queue.settle(head!, { kind: "dead", error: boom() }, WINDOW);
      const [next] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      expect(next!.event.id).toBe(entries[1]!.event.id);
    });

    it("leases by priority, highest first", async () => {
      const b = await create();
      const low = entry([{ fn: "p", priority: 0 }]);
      const high = entry([{ fn: "p", priority: 10 }]);
      const mid = entry([{ fn: "p", priority: 5 }]);
      await b.log.append([low, high, mid], WINDOW);
      const leased = await b.queue.lease("p", 10, 5_000, { byPriority: true });
      expect(leased.map((d) => d.event.id)).toEqual([high, mid, low].map((e) => e.event.id));
    });

    it("holds delayed deliveries back until due", async () => {
      const b = await create();
      await b.log.append([entry([{ fn: "d", dueAt: now() + 150 }])], WINDOW);
      expect(await b.queue.lease("d", 10, 5_000)).toHaveLength(0);
      await elapse(200);
      expect(await b.queue.lease("d", 10, 5_000)).toHaveLength(1);
    });

    it("leases a batch when it is full, or when its oldest has waited the window", async () => {
      const b = await create();
      await b.log.append(
        [1, 2, 3].map(() => entry([{ fn: "b", batchKey: "k" }])),
        WINDOW,
      );
      expect(await b.queue.leaseBatch("b", 5, 5_000, 60_000)).toHaveLength(0);
      const full = await b.queue.leaseBatch("b", 3, 5_000, 60_000);
      expect(full).toHaveLength(3);
      await b.log.append([entry([{ fn: "b", batchKey: "k" }]), entry([{ fn: "b", batchKey: "j" }])], WINDOW);
      expect(await b.queue.leaseBatch("b", 5, 5_000, 100)).toHaveLength(0);
      await elapse(150);
      const first = await b.queue.leaseBatch("b", 5, 5_000, 100);
      const second = await b.queue.leaseBatch("b", 5, 5_000, 100);
      expect([first.length, second.length]).toEqual([1, 1]);
      expect(first[0]!.id).not.toBe(second[0]!.id);
    });

    it("batches deliveries without a batch key together", async () => {
      const b = await create();
      await b.log.append([entry(["nb"]), entry(["nb"])], WINDOW);
      expect(await b.queue.leaseBatch("nb", 2, 5_000, 60_000)).toHaveLength(2);
    });

    it("debounces: a queued delivery with the same key takes the newest event", async () => {
      const b = await create();
      const debounce = { key: "k", periodMs: 100, maxWaitMs: 10_000 };
      const first = entry([{ fn: "db", debounce }]);
      const second = entry([{ fn: "db", debounce }]);
      const other = entry([{ fn: "db", debounce: { ...debounce, key: "other" } }]);
      await b.log.append([first], WINDOW);
      await b.log.append([second, other], WINDOW);
      expect(await b.queue.lease("db", 10, 5_000)).toHaveLength(0);
      await elapse(150);
      const leased = await b.queue.lease("db", 10, 5_000);
      expect(leased.map((d) => d.event.id).sort()).toEqual([second.event.id, other.event.id].sort());
    });

    it("debounces into a delivery that is due but not leased yet", async () => {
      const b = await create();
      const debounce = { key: "k", periodMs: 50, maxWaitMs: 10_000 };
      await b.log.append([entry([{ fn: "dd", debounce }])], WINDOW);
      await elapse(100); // due now, and nobody leased it: it still takes newer events
      const second = entry([{ fn: "dd", debounce }]);
      await b.log.append([second], WINDOW);
      expect(await b.queue.lease("dd", 10, 5_000)).toHaveLength(0);
      await elapse(100);
      const leased = await b.queue.lease("dd", 10, 5_000);
      expect(leased.map((d) => d.event.id)).toEqual([second.event.id]);
    });

    it("debounce never waits past maxWait", async () => {
      const b = await create();
      const debounce = { key: "k", periodMs: 120, maxWaitMs: 200 };
      await b.log.append([entry([{ fn: "mw", debounce }])], WINDOW);
      for (let i = 0; i < 4; i++) {
        await elapse(60);
        await b.log.append([entry([{ fn: "mw", debounce }])], WINDOW);
      }
      // 240 ms of activity, never 120 ms of quiet: maxWait (200 ms) makes it due anyway.
      expect(await b.queue.lease("mw", 10, 5_000)).toHaveLength(1);
    });

    it("cancels queued deliveries by key, not leased ones", async () => {
      const b = await create();
      const a1 = entry([{ fn: "c", cancelKey: "a" }]);
      const a2 = entry([{ fn: "c", cancelKey: "a" }]);
      const other = entry([{ fn: "c", cancelKey: "b" }]);
      await b.log.append([a1], WINDOW);
      const [running] = await b.queue.lease("c", 1, 5_000);
      await b.log.append([a2, other], WINDOW);
      const cancelled = await b.queue.cancel("c", "a");
      expect(cancelled.map((c) => c.eventId)).toEqual([a2.event.id]);
      const left = await b.queue.lease("c", 10, 5_000);
      expect(left.map((d) => d.event.id)).toEqual([other.event.id]);
      expect((await b.queue.settle(running!, { kind: "ack" }, WINDOW)).settled).toBe(true);
    });

    it("extends a lease, and a lease moved to now is handed out again", async () => {
      const b = await create();
      await b.log.append([entry(["x"])], WINDOW);
      const [d] = await b.queue.lease("x", 1, 100);
      expect(await b.queue.extend(d!, now() + 60_000)).toBe(true);
      await elapse(150);
      expect(await b.queue.lease("x", 1, 100)).toHaveLength(0);
      expect(await b.queue.extend(d!, now())).toBe(true);
      const [again] = await b.queue.lease("x", 1, 5_000);
      expect(again!.id).toBe(d!.id);
      expect(await b.queue.extend(d!, now() + 1000)).toBe(false);
    });

    it("releases to a later time without counting the attempt", async () => {
      const b = await create();
      await b.log.append([entry(["r"])], WINDOW);
      const [d] = await b.queue.lease("r", 1, 5_000);
      await b.queue.release([d!], now() + 150);
      expect(await b.queue.lease("r", 1, 5_000)).toHaveLength(0);
      await elapse(200);
      const [again] = await b.queue.lease("r", 1, 5_000);
      expect(again!.attempt).toBe(1);
    });

    it("writes kv with a settle, only when the lease is held", async () => {
      const b = await create();
      await b.log.append([entry(["k"])], WINDOW);
      const [d] = await b.queue.lease("k", 1, 5_000);
      await b.queue.settle(
        d!,
        { kind: "ack" },
        { ...WINDOW, kv: [{ ns: "n", key: "done", value: { ok: 1 } }] },
      );
      expect((await b.kv.get("n", "done"))?.value).toEqual({ ok: 1 });
      const stale = await b.queue.settle(
        d!,
        { kind: "ack" },
        { ...WINDOW, kv: [{ ns: "n", key: "stale", value: 1 }] },
      );
      expect(stale.settled).toBe(false);
      expect(await b.kv.get("n", "stale")).toBeUndefined();
      await b.log.append([entry(["k"])], WINDOW);
      const [d2] = await b.queue.lease("k", 1, 5_000);
      await b.queue.settle(
        d2!,
        { kind: "ack" },
        { ...WINDOW, kv: [{ ns: "n", key: "done", value: undefined }] },
      );
      expect(await b.kv.get("n", "done")).toBeUndefined();
    });

    it("appends with a per-entry dedup window", async () => {
      const b = await create();
      const e = { ...entry(["w"]), dedupWindowMs: 40 };
      await b.log.append([e], WINDOW);
      expect((await b.log.append([e], WINDOW))[0]!.status).toBe("duplicate");
      await elapse(70);
      expect((await b.log.append([e], WINDOW))[0]!.status).toBe("accepted");
    });
  });
}
