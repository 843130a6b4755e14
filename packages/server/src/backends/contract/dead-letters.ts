import { describe, expect } from "vitest";
import type { Backend, LeasedDelivery } from "../types.js";
import type { ContractContext } from "./context.js";
import { entry, WINDOW } from "./fixtures.js";

async function kill(b: Backend, d: LeasedDelivery, name = "Error", message = "boom") {
  await b.queue.settle(d, { kind: "dead", error: { name, message } }, WINDOW);
}

/** Contract of the dead-letter queue and the admin view of deliveries. */
export function describeDeadLetterContract({ it, create, now }: ContractContext): void {
  describe("dead letters", () => {
    it("lists with filters and pages, oldest first", async () => {
      const b = await create();
      await b.log.append([entry(["f"], "a"), entry(["f"], "b"), entry(["f"], "a")], WINDOW);
      const [x, y, z] = await b.queue.lease("f", 3, 5_000);
      await kill(b, x!, "TypeError");
      await kill(b, y!);
      await kill(b, z!);
      expect((await b.deadLetters.list("f", { limit: 10 })).map((d) => d.id)).toEqual([x!.id, y!.id, z!.id]);
      expect((await b.deadLetters.list("f", { limit: 10, eventType: "a" })).map((d) => d.id)).toEqual([
        x!.id,
        z!.id,
      ]);
      expect((await b.deadLetters.list("f", { limit: 10, errorName: "TypeError" })).map((d) => d.id)).toEqual(
        [x!.id],
      );
      expect((await b.deadLetters.list("f", { limit: 10, ids: [y!.id] })).map((d) => d.id)).toEqual([y!.id]);
      const page1 = await b.deadLetters.list("f", { limit: 2 });
      const page2 = await b.deadLetters.list("f", { limit: 2, afterId: page1[1]!.id });
      expect([...page1, ...page2].map((d) => d.id)).toEqual([x!.id, y!.id, z!.id]);
      expect(await b.deadLetters.counts()).toMatchObject({ f: 3 });
      expect((await b.deadLetters.get("f", y!.id))?.error).toEqual({ name: "Error", message: "boom" });
      expect(await b.deadLetters.get("other", y!.id)).toBeUndefined();
    });

    it("redrives with a fresh attempt budget, keeping the id", async () => {
      const b = await create();
      await b.log.append([entry(["f"]), entry(["f"])], WINDOW);
      const [x, y] = await b.queue.lease("f", 2, 5_000);
      await kill(b, x!);
      await kill(b, y!);
      expect(await b.deadLetters.redrive("f", { ids: [x!.id] })).toBe(1);
      const [again] = await b.queue.lease("f", 10, 5_000);
      expect(again!.id).toBe(x!.id);
      expect(again!.attempt).toBe(1);
      expect(again!.redrives).toBe(1);
      expect(await b.deadLetters.redrive("f", {})).toBe(1);
      expect((await b.queue.counts("f")).dead).toBe(0);
    });

    it("redrives a grouped delivery back to its place in its FIFO group", async () => {
      const b = await create();
      const [first, second] = [entry([{ fn: "q", groupKey: "g" }]), entry([{ fn: "q", groupKey: "g" }])];
      await b.log.append([first, second], WINDOW);
      const [head] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      await kill(b, head!);
      expect(await b.deadLetters.redrive("q", { ids: [head!.id] })).toBe(1);
      const [again] = await b.queue.lease("q", 10, 5_000, { ordered: true });
      expect(again).toMatchObject({ id: head!.id, groupKey: "g", attempt: 1, redrives: 1 });
      expect(again!.event.id).toBe(first.event.id);
      expect(await b.queue.lease("q", 10, 5_000, { ordered: true })).toHaveLength(0);
    });

    it("purges what the filter selects", async () => {
      const b = await create();
      await b.log.append([entry(["f"], "a"), entry(["f"], "b")], WINDOW);
      const [x, y] = await b.queue.lease("f", 2, 5_000);
      await kill(b, x!);
      await kill(b, y!);
      expect(await b.deadLetters.purge("f", { eventType: "a" })).toBe(1);
      expect((await b.deadLetters.list("f", { limit: 10 })).map((d) => d.id)).toEqual([y!.id]);
      expect(await b.deadLetters.purge("f", {})).toBe(1);
      expect(await b.queue.counts("f")).toEqual({ ready: 0, leased: 0, dead: 0 });
    });

    it("shows leased and overdue deliveries", async () => {
      const b = await create();
      await b.log.append([entry(["v"]), entry([{ fn: "v", dueAt: now() - 60_000 }])], WINDOW);
      const overdue = await b.deadLetters.inspect({
        state: "overdue",
        fn: "v",
        overdueMs: 30_000,
        limit: 10,
      });
      expect(overdue).toHaveLength(1);
      expect(overdue[0]).toMatchObject({ fn: "v", state: "ready", eventType: "contract.test" });
      await b.queue.lease("v", 10, 60_000);
      const leased = await b.deadLetters.inspect({ state: "leased", limit: 10 });
      expect(leased.filter((d) => d.fn === "v")).toHaveLength(2);
      expect(leased[0]!.dueAt).toBeGreaterThan(now());
    });

    it("shows leased and overdue deliveries of groups and queues too", async () => {
      const b = await create();
      const old = now() - 60_000;
      await b.log.append(
        [
          entry([{ fn: "queue:w", dueAt: old }]),
          entry([{ fn: "gw", groupKey: "g", dueAt: old }]),
          entry([{ fn: "gw", groupKey: "g" }]),
        ],
        WINDOW,
      );
      const overdue = await b.deadLetters.inspect({ state: "overdue", overdueMs: 30_000, limit: 10 });
      expect(
        overdue
          .filter((d) => d.fn === "queue:w" || d.fn === "gw")
          .map((d) => d.fn)
          .sort(),
      ).toEqual(["gw", "queue:w"]);
      await b.queue.lease("gw", 10, 60_000, { perGroup: 1 });
      const leased = await b.deadLetters.inspect({ state: "leased", fn: "gw", limit: 10 });
      expect(leased).toMatchObject([{ fn: "gw", state: "leased", attempt: 1 }]);
      // The other one waits for its group, and became due only now: not overdue.
      expect(
        await b.deadLetters.inspect({ state: "overdue", fn: "gw", overdueMs: 30_000, limit: 10 }),
      ).toEqual([]);
    });
  });
}
