/**
 * The backend contract: one test suite that every backend runs, so that `embedded` and `cluster`
 * keep the same promises (the delivery contract of docs/architecture.md depends on them).
 *
 * @example
 * // packages/server/test/embedded-contract.test.ts
 * describeBackendContract("embedded", { create: () => openEmbeddedBackend({ path: tmpFile() }) , ... });
 */
import { afterEach, describe, expect, it as vitestIt } from "vitest";
import type { Backend } from "../types.js";
import { describeDeadLetterContract } from "./dead-letters.js";
import { boom, entry, record, sleep, WINDOW } from "./fixtures.js";
import { describeFlowContract } from "./flow.js";
import { describeObservabilityContract } from "./observability.js";

/** How the suite gets backends. */
export interface ContractHarness {
  /** A backend on fresh, empty storage. */
  create(): Promise<Backend>;
  /**
   * Simulates a crash and a restart: drops `backend` without settling what it leased and opens a
   * new one on the same storage.
   */
  restart(backend: Backend): Promise<Backend>;
  /**
   * Tests this backend does not pass yet, by title, each with the reason (Hono's router suite does
   * the same): they are reported as skipped with the reason in their name, never left out quietly.
   */
  skip?: Record<string, string>;
}

/** The test function the contract registers with (vitest's `it`, or one that skips by title). */
export type ContractTest = (name: string, fn: () => Promise<void>) => void;

/** Registers the contract tests for one backend. */
export function describeBackendContract(name: string, harness: ContractHarness): void {
  const skip = harness.skip ?? {};
  const it: ContractTest = (title, fn) => {
    const reason = skip[title];
    if (reason === undefined) vitestIt(title, fn);
    else vitestIt.skip(`${title} [not on ${name}: ${reason}]`, fn);
  };
  describe(`backend contract: ${name}`, () => {
    const open: Backend[] = [];
    const create = async () => track(await harness.create());
    const restart = async (b: Backend) => track(await harness.restart(b));
    const track = (b: Backend) => (open.push(b), b);

    afterEach(async () => {
      for (const b of open.splice(0)) await b.close().catch(() => undefined);
    });

    it("appends durably, in order, and reads back what it stored", async () => {
      let b = await create();
      const results = await b.log.append([entry([]), entry([]), entry([])], WINDOW);
      expect(results.map((r) => r.status)).toEqual(["accepted", "accepted", "accepted"]);
      const seqs = results.map((r) => r.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      b = await restart(b);
      const read = await b.log.read(seqs[0]! - 1, 10);
      expect(read.map((r) => r.seq)).toEqual(seqs);
      expect(read[0]!.event.type).toBe("contract.test");
    });

    it("deduplicates source+id within the window, also inside one append", async () => {
      const b = await create();
      const e = entry(["f"]);
      const [first] = await b.log.append([e], WINDOW);
      const again = await b.log.append([e, entry(["f"]), e], WINDOW);
      expect(again.map((r) => r.status)).toEqual(["duplicate", "accepted", "duplicate"]);
      expect(again[0]!.seq).toBe(first!.seq);
      // Only the two distinct events created deliveries.
      expect((await b.queue.counts("f")).ready).toBe(2);
    });

    it("answers concurrent appends each with its own results; a later caller's repeat is a duplicate", async () => {
      const b = await create();
      const shared = entry(["f"]);
      // 20 appends at once; every fifth also carries `shared`, which only the first of them stores.
      const calls = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          b.log.append(i % 5 === 0 ? [shared, entry(["f"])] : [entry(["f"])], WINDOW),
        ),
      );
      expect(calls.map((c) => c.length)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 5 === 0 ? 2 : 1)));
      expect(calls[0]!.map((r) => r.status)).toEqual(["accepted", "accepted"]);
      for (const i of [5, 10, 15]) {
        expect(calls[i]![0]).toEqual({ status: "duplicate", seq: calls[0]![0]!.seq });
        expect(calls[i]![1]!.status).toBe("accepted");
      }
      const accepted = calls.flat().filter((r) => r.status === "accepted");
      expect(accepted).toHaveLength(21);
      expect(new Set(accepted.map((r) => r.seq)).size).toBe(21);
      expect((await b.queue.counts("f")).ready).toBe(21);
    });

    it("accepts a repeat once the dedup window has passed", async () => {
      const b = await create();
      const e = entry([]);
      await b.log.append([e], { dedupWindowMs: 30 });
      await sleep(60);
      const [r] = await b.log.append([e], { dedupWindowMs: 30 });
      expect(r!.status).toBe("accepted");
    });

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
      expect(await b.queue.nextDueAt("f")).toBeGreaterThan(Date.now());
      await sleep(150);
      const [second] = await b.queue.lease("f", 1, 5_000);
      expect(second!.id).toBe(first!.id);
      expect(second!.attempt).toBe(2);
      // The first lease is lost: settling it changes nothing.
      const stale = await b.queue.settle(first!, { kind: "ack" }, { invocation: record(first!), ...WINDOW });
      expect(stale.settled).toBe(false);
      expect((await b.queue.counts("f")).leased).toBe(1);
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
        expect(await b.queue.purge("f", { ids: [y!.id] })).toBe(1);
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
      const dueAt = Date.now() + 150;
      await b.queue.settle(
        d!,
        { kind: "retry", dueAt, error: boom() },
        { invocation: record(d!), ...WINDOW },
      );
      expect(await b.queue.lease("f", 1, 5_000)).toHaveLength(0);
      expect(await b.queue.nextDueAt("f")).toBe(dueAt);
      await sleep(200);
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
      const [dead] = await b.queue.listDead("f", { limit: 10 });
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
        { kind: "retry", dueAt: Date.now() + 60_000, error: boom() },
        { invocation: record(failed!), emit: [entry(["g"])], ...WINDOW },
      );
      const g = await b.queue.lease("g", 10, 5_000);
      expect(g.map((d) => d.event.id)).toEqual([emitted.event.id]);
    });

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
      await sleep(350);
      const again = await b.queue.lease("f", 10, 5_000);
      expect(again.map((d) => d.id).sort()).toEqual(leased.map((d) => d.id).sort());
      expect(again.every((d) => d.attempt >= 2)).toBe(true);
    });

    it("keeps retries and dead letters across a restart", async () => {
      let b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const [x, y] = await b.queue.lease("f", 2, 5_000);
      const dueAt = Date.now() + 100;
      await b.queue.settle(
        x!,
        { kind: "retry", dueAt, error: boom() },
        { invocation: record(x!), ...WINDOW },
      );
      await b.queue.settle(y!, { kind: "dead", error: boom() }, { invocation: record(y!), ...WINDOW });
      b = await restart(b);
      expect((await b.queue.counts("f")).dead).toBe(1);
      await sleep(150);
      const [again] = await b.queue.lease("f", 10, 5_000);
      expect(again!.id).toBe(x!.id);
    });

    describe("key-value", () => {
      it("gets, sets and deletes", async () => {
        const b = await create();
        expect(await b.kv.get("ns", "k")).toBeUndefined();
        const v1 = await b.kv.set("ns", "k", { n: 1 });
        expect(v1).toBe(1);
        expect((await b.kv.get("ns", "k"))?.value).toEqual({ n: 1 });
        expect(await b.kv.get("other", "k")).toBeUndefined();
        expect(await b.kv.delete("ns", "k")).toBe(true);
        expect(await b.kv.get("ns", "k")).toBeUndefined();
        expect(await b.kv.delete("ns", "k")).toBe(false);
      });

      it("compares and sets", async () => {
        const b = await create();
        expect(await b.kv.set("ns", "k", 1, { ifVersion: 0 })).toBe(1);
        expect(await b.kv.set("ns", "k", 2, { ifVersion: 0 })).toBeUndefined();
        expect(await b.kv.set("ns", "k", 2, { ifVersion: 1 })).toBe(2);
        expect(await b.kv.set("ns", "k", 3, { ifVersion: 1 })).toBeUndefined();
        expect((await b.kv.get("ns", "k"))?.value).toBe(2);
        expect(await b.kv.delete("ns", "k", { ifVersion: 1 })).toBe(false);
        expect(await b.kv.delete("ns", "k", { ifVersion: 2 })).toBe(true);
      });

      it("lets only one of many concurrent compare-and-sets win", async () => {
        const b = await create();
        const wins = await Promise.all(
          Array.from({ length: 10 }, (_, i) => b.kv.set("ns", "race", i, { ifVersion: 0 })),
        );
        expect(wins.filter((v) => v !== undefined)).toHaveLength(1);
      });

      it("expires entries after their TTL", async () => {
        const b = await create();
        const ttlMs = 200;
        const setAt = Date.now();
        await b.kv.set("ns", "k", "v", { ttlMs });
        const first = await b.kv.get("ns", "k");
        // On a loaded machine the read may come after the TTL: then only expiry can be checked.
        if (Date.now() - setAt < ttlMs) expect(first?.value).toBe("v");
        for (let i = 0; (await b.kv.get("ns", "k")) !== undefined; i++) {
          if (i > 400) throw new Error(`an entry with a ${ttlMs} ms TTL is still there after 20 s`);
          await sleep(50);
        }
        const v = await b.kv.set("ns", "k", "w", { ifVersion: 0 });
        expect(v).toBeGreaterThan(1);
      });

      it("keeps values across a restart", async () => {
        let b = await create();
        await b.kv.set("ns", "k", { deep: [1, 2] });
        b = await restart(b);
        expect((await b.kv.get("ns", "k"))?.value).toEqual({ deep: [1, 2] });
      });
    });

    describeFlowContract(create, it);
    describeDeadLetterContract(create, it);
    describeObservabilityContract(create, it);
  });
}
