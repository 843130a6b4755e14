import { describe, expect } from "vitest";
import type { ContractContext } from "../context.js";
import { entry, WINDOW } from "../fixtures.js";

/** Contract of `capabilities.joinsWrites`: a write issued while an append is pending runs after it. */
export function describeJoinsWritesContract({ it, create }: ContractContext): void {
  describe("joined writes", () => {
    it("runs a lease issued while an append is pending after it, in its commit", async () => {
      const b = await create();
      const appended = b.log.append([entry(["joined"]), entry(["joined"])], WINDOW);
      // Not awaited: the engine leases the appended deliveries this way (events/ingest.ts).
      const leased = b.queue.lease("joined", 10, 5_000);
      const [results, leases] = await Promise.all([appended, leased]);
      expect(leases.map((d) => d.eventSeq)).toEqual(results.map((r) => r.seq));
    });
  });
}
