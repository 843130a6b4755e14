import { describe, expect } from "vitest";
import type { ContractContext } from "../context.js";

/** Contract of `capabilities.bundles`: content-addressed bundles, durable, shared by the processes. */
export function describeBundlesContract({ it, create, restart }: ContractContext): void {
  describe("bundles", () => {
    it("stores bundles by name once, durably, and hands them back byte for byte", async () => {
      let b = await create();
      const code = new Uint8Array([0, 1, 2, 250, 255]);
      const name = `m.${process.pid}-${Date.now()}.mjs`;
      expect(await b.capabilities.bundles!.has([name])).toEqual(new Set());
      await b.capabilities.bundles!.put([{ name, code }]);
      // A name always stands for the same code: storing it again leaves what is stored.
      await b.capabilities.bundles!.put([{ name, code: new Uint8Array([9]) }]);
      b = await restart(b);
      expect(await b.capabilities.bundles!.has([name, "absent.mjs"])).toEqual(new Set([name]));
      expect([...(await b.capabilities.bundles!.get(name))!]).toEqual([...code]);
      expect(await b.capabilities.bundles!.get("absent.mjs")).toBeUndefined();
    });
  });
}
