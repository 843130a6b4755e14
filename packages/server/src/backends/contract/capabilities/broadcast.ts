import { describe, expect } from "vitest";
import type { ContractContext } from "../context.js";
import { recorder, sendUntilHeard } from "./signal.js";

/** Contract of `capabilities.broadcast`: messages reach the other processes, never the sender. */
export function describeBroadcastContract({ it, create, peer }: ContractContext): void {
  describe("broadcast", () => {
    it("tells the other processes, by topic, and never the sender itself", async () => {
      const here = await create();
      const there = await peer(here);
      const atHere = recorder<unknown>();
      const atThere = recorder<unknown>();
      const otherTopic = recorder<unknown>();
      here.capabilities.broadcast!.listen("contract", atHere.listener);
      there.capabilities.broadcast!.listen("contract", atThere.listener);
      there.capabilities.broadcast!.listen("contract-other", otherTopic.listener);
      await sendUntilHeard(
        () => here.capabilities.broadcast!.send("contract", { n: 1 }),
        atThere.seen(() => true),
      );
      expect(atThere.told[0]).toEqual({ n: 1 });
      // The answer is sent after the first message arrived there, so it arrives here after most
      // copies of the first would have: by then `here` must have heard answers only.
      await sendUntilHeard(
        () => there.capabilities.broadcast!.send("contract", { n: 2 }),
        atHere.seen(() => true),
      );
      expect(atHere.told.every((m) => (m as { n: number }).n === 2)).toBe(true);
      expect(otherTopic.told).toEqual([]);
    });

    it("stops telling a listener that unsubscribed", async () => {
      const here = await create();
      const there = await peer(here);
      const gone = recorder<unknown>();
      const kept = recorder<unknown>();
      const unsubscribe = there.capabilities.broadcast!.listen("contract-unsub", gone.listener);
      unsubscribe();
      there.capabilities.broadcast!.listen("contract-unsub", kept.listener);
      await sendUntilHeard(
        () => here.capabilities.broadcast!.send("contract-unsub", "x"),
        kept.seen(() => true),
      );
      expect(gone.told).toEqual([]);
    });
  });
}
