import { describe, expect } from "vitest";
import type { ContractContext } from "../context.js";
import { entry, record, WINDOW } from "../fixtures.js";
import { recorder } from "./signal.js";

/** Contract of `capabilities.wakeups`: deliveries made or freed by another process wake this one. */
export function describeWakeupsContract({ it, create, peer }: ContractContext): void {
  describe("wakeups", () => {
    it("tells a process of deliveries another process appended", async () => {
      const here = await create();
      const there = await peer(here);
      const wake = recorder<string[]>();
      here.capabilities.wakeups!.onDeliveries(wake.listener);
      await there.log.append([entry(["woken"])], WINDOW);
      await wake.seen((fns) => fns.includes("woken"));
      expect((await here.queue.lease("woken", 10, 5_000)).map((d) => d.fn)).toEqual(["woken"]);
    });

    it("tells a process of deliveries a settle elsewhere made leasable (a FIFO group's next)", async () => {
      const here = await create();
      const there = await peer(here);
      await here.log.append(
        [entry([{ fn: "fifo", groupKey: "g" }]), entry([{ fn: "fifo", groupKey: "g" }])],
        WINDOW,
      );
      const [head] = await there.queue.lease("fifo", 10, 5_000, { ordered: true });
      expect(await here.queue.lease("fifo", 10, 5_000, { ordered: true })).toEqual([]);
      const wake = recorder<string[]>();
      here.capabilities.wakeups!.onDeliveries(wake.listener);
      await there.queue.settle(head!, { kind: "ack" }, { invocation: record(head!), ...WINDOW });
      await wake.seen((fns) => fns.includes("fifo"));
      expect(await here.queue.lease("fifo", 10, 5_000, { ordered: true })).toHaveLength(1);
    });

    it("stops telling a listener that unsubscribed", async () => {
      const here = await create();
      const there = await peer(here);
      const gone = recorder<string[]>();
      const kept = recorder<string[]>();
      const unsubscribe = here.capabilities.wakeups!.onDeliveries(gone.listener);
      here.capabilities.wakeups!.onDeliveries(kept.listener);
      unsubscribe();
      await there.log.append([entry(["unsub"])], WINDOW);
      // Both listeners hear the same wake-up at once: when one has, the other would have too.
      await kept.seen((fns) => fns.includes("unsub"));
      expect(gone.told).toEqual([]);
    });
  });
}
