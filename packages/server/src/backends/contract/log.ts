import { describe, expect } from "vitest";
import { entry, WINDOW } from "./fixtures.js";
import type { ContractContext } from "./context.js";

/** Contract of the event log: durable, ordered appends with deduplication. */
export function describeLogContract({ it, create, restart, elapse }: ContractContext): void {
  describe("event log", () => {
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
      await elapse(60);
      const [r] = await b.log.append([e], { dedupWindowMs: 30 });
      expect(r!.status).toBe("accepted");
    });
  });
}
