import { describe, expect } from "vitest";
import { boom, entry, record, WINDOW } from "./fixtures.js";
import type { ContractContext } from "./context.js";

/** Contract of the lease core: lease, expiry, settle (ack, retry at, dead-letter, emits), release, crash recovery. */
export function describeLeaseContract({ it, create, restart, now, elapse }: ContractContext): void {
  describe("lease", () => {
    it("enqueues one delivery per routed function and leases each function's own", async () => {
      const b = await create();
      await b.log.append([entry(["a", "b"]), entry(["a"])], WINDOW);
      const a = await b.queue.lease("a", 10, 5_000);
      const bb = await b.queue.lease("b", 10, 5_000);
      expect(a).toHaveLength(2);
      expect(bb).toHaveLength(1);
      expect(a[0]!.attempt).toBe(1);
      expect(a[0]!.event.type).toBe("contract.test");
      expect(await b.queue.lease("a", 10, 5_000)).toHaveLength(0);
    });

    it("hands a delivery out again when its lease expires, counting the attempt", async () => {
      const b = await create();
      await b.log.append([entry(["f"])], WINDOW);
      const [first] = await b.queue.lease("f", 1, 100);
      expect(await b.queue.lease("f", 1, 100)).toHaveLength(0);
      expect(await b.queue.nextDueAt("f")).toBeGreaterThan(now());
      await elapse(150);
      const [second] = await b.queue.lease("f", 1, 5_000);
      expect(second!.id).toBe(first!.id);
      expect(second!.attempt).toBe(2);
      // The first lease is lost: settling it changes nothing.
      const stale = await b.queue.settle(first!, { kind: "ack" }, { invocation: record(first!), ...WINDOW });
      expect(stale.settled).toBe(false);
      expect((await b.queue.counts("f")).leased).toBe(1);
    });

    it("answers a next due time for deliveries of a consumer that never leased", async () => {
      const b = await create();
      await b.log.append([entry(["never-leased"])], WINDOW);
      expect(await b.queue.nextDueAt("never-leased")).toBeDefined();
    });

    it("acks: a settled delivery is gone", async () => {
      const b = await create();
      await b.log.append([entry(["f"])], WINDOW);
      const [d] = await b.queue.lease("f", 1, 5_000);
      const r = await b.queue.settle(d!, { kind: "ack" }, { invocation: record(d!), ...WINDOW });
      expect(r.settled).toBe(true);
      expect(await b.queue.counts("f")).toEqual({ ready: 0, leased: 0, dead: 0 });
      expect(await b.queue.nextDueAt("f")).toBeUndefined();
    });

    it("never gives a delivery the id of one that was acked, dead-lettered or purged, also after a restart", async () => {
      let b = await create();
      const seen = new Set<string>();
      // Each round empties the queue (ack, dead-letter, purge): a store that numbers deliveries by
      // what it still holds would hand the next ones the same ids, and their history with them.
      for (let round = 0; round < 3; round++) {
        await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
        const [x, y] = await b.queue.lease("f", 2, 5_000);
        for (const d of [x!, y!]) {
          expect(seen.has(d.id)).toBe(false);
          seen.add(d.id);
        }
        await b.queue.settle(x!, { kind: "ack" }, { invocation: record(x!), ...WINDOW });
        await b.queue.settle(y!, { kind: "dead", error: boom() }, { invocation: record(y!), ...WINDOW });
        expect(await b.deadLetters.purge("f", { ids: [y!.id] })).toBe(1);
        if (round === 1) b = await restart(b);
      }
      expect(await b.queue.counts("f")).toEqual({ ready: 0, leased: 0, dead: 0 });
    });

    it("releases unused leases: due again at once, the attempt not counted", async () => {
      const b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const leased = await b.queue.lease("f", 2, 60_000);
      await b.queue.release([leased[1]!]);
      const again = await b.queue.lease("f", 2, 60_000);
      expect(again.map((d) => [d.id, d.attempt])).toEqual([[leased[1]!.id, 1]]);
      // A released lease is no longer held: settling it does nothing.
      const r = await b.queue.settle(
        leased[1]!,
        { kind: "ack" },
        { invocation: record(leased[1]!), ...WINDOW },
      );
      expect(r.settled).toBe(false);
    });

    it("retries at the given time and not before", async () => {
      const b = await create();
      await b.log.append([entry(["f"])], WINDOW);
      const [d] = await b.queue.lease("f", 1, 5_000);
      const dueAt = now() + 150;
      await b.queue.settle(
        d!,
        { kind: "retry", dueAt, error: boom() },
        { invocation: record(d!), ...WINDOW },
      );
      expect(await b.queue.lease("f", 1, 5_000)).toHaveLength(0);
      expect(await b.queue.nextDueAt("f")).toBe(dueAt);
      await elapse(200);
      const [again] = await b.queue.lease("f", 1, 5_000);
      expect(again!.attempt).toBe(2);
      expect(again!.event.id).toBe(d!.event.id);
    });

    it("dead-letters with the error and keeps it out of the queue", async () => {
      const b = await create();
      await b.log.append([entry(["f"])], WINDOW);
      const [d] = await b.queue.lease("f", 1, 5_000);
      await b.queue.settle(d!, { kind: "dead", error: boom() }, { invocation: record(d!), ...WINDOW });
      expect(await b.queue.lease("f", 1, 5_000)).toHaveLength(0);
      expect(await b.queue.counts("f")).toEqual({ ready: 0, leased: 0, dead: 1 });
      const [dead] = await b.deadLetters.list("f", { limit: 10 });
      expect(dead!.error.message).toBe("boom");
      expect(dead!.attempts).toBe(1);
      expect(dead!.event.id).toBe(d!.event.id);
    });

    it("publishes emitted events with the ack, and only with an ack", async () => {
      const b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const [ok, failed] = await b.queue.lease("f", 2, 5_000);
      const emitted = entry(["g"]);
      const r = await b.queue.settle(
        ok!,
        { kind: "ack" },
        { invocation: record(ok!), emit: [emitted], ...WINDOW },
      );
      expect(r.emitted.map((e) => e.status)).toEqual(["accepted"]);
      await b.queue.settle(
        failed!,
        { kind: "retry", dueAt: now() + 60_000, error: boom() },
        { invocation: record(failed!), emit: [entry(["g"])], ...WINDOW },
      );
      const g = await b.queue.lease("g", 10, 5_000);
      expect(g.map((d) => d.event.id)).toEqual([emitted.event.id]);
    });

    it("never hands one delivery to two concurrent consumers", async () => {
      const b = await create();
      const n = 300;
      await b.log.append(
        Array.from({ length: n }, () => entry(["f"])),
        WINDOW,
      );
      const seen: string[] = [];
      const consumer = async () => {
        for (;;) {
          const batch = await b.queue.lease("f", 7, 30_000);
          if (batch.length === 0) return;
          for (const d of batch) {
            seen.push(d.id);
            await b.queue.settle(d, { kind: "ack" }, { invocation: record(d), ...WINDOW });
          }
        }
      };
      await Promise.all([consumer(), consumer(), consumer()]);
      expect(seen).toHaveLength(n);
      expect(new Set(seen).size).toBe(n);
    });

    it("recovers after a crash: leased but unsettled work is delivered again", async () => {
      let b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const leased = await b.queue.lease("f", 2, 300);
      expect(leased).toHaveLength(2);
      b = await restart(b);
      await elapse(350);
      const again = await b.queue.lease("f", 10, 5_000);
      expect(again.map((d) => d.id).sort()).toEqual(leased.map((d) => d.id).sort());
      expect(again.every((d) => d.attempt >= 2)).toBe(true);
    });

    it("keeps retries and dead letters across a restart", async () => {
      let b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const [x, y] = await b.queue.lease("f", 2, 5_000);
      const dueAt = now() + 100;
      await b.queue.settle(
        x!,
        { kind: "retry", dueAt, error: boom() },
        { invocation: record(x!), ...WINDOW },
      );
      await b.queue.settle(y!, { kind: "dead", error: boom() }, { invocation: record(y!), ...WINDOW });
      b = await restart(b);
      expect((await b.queue.counts("f")).dead).toBe(1);
      await elapse(150);
      const [again] = await b.queue.lease("f", 10, 5_000);
      expect(again!.id).toBe(x!.id);
    });
  });
}
