import { describe, expect } from "vitest";
import type { Backend } from "../types.js";
import type { ContractContext } from "./context.js";

/** The keys of a listing. */
async function keys(b: Backend, ns: string, query: { prefix?: string; after?: string; limit?: number } = {}) {
  return (await b.kv.list(ns, { limit: 100, ...query })).map((e) => e.key);
}

/** Contract of the key-value store: compare-and-set, TTL, and ordered prefix reads with paging. */
export function describeKeyValueContract({ it, create, restart, now, elapse }: ContractContext): void {
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
      const setAt = now();
      await b.kv.set("ns", "k", "v", { ttlMs });
      const first = await b.kv.get("ns", "k");
      // On a loaded machine the read may come after the TTL: then only expiry can be checked.
      if (now() - setAt < ttlMs) expect(first?.value).toBe("v");
      for (let i = 0; (await b.kv.get("ns", "k")) !== undefined; i++) {
        if (i > 400) throw new Error(`an entry with a ${ttlMs} ms TTL is still there after 20 s`);
        await elapse(50);
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

    it("writes a batch all or nothing, by its compares", async () => {
      const b = await create();
      await b.kv.set("batch", "a", 1);
      await b.kv.set("batch", "gone", 1);
      expect(
        await b.kv.batch([
          { ns: "batch", key: "a", value: 2, ifVersion: 1 },
          { ns: "batch", key: "new", value: "n", ifVersion: 0 },
          { ns: "batch", key: "gone", value: undefined },
          { ns: "batch", key: "never-was", value: undefined },
        ]),
      ).toEqual([2, 1, 0, 0]);
      expect((await b.kv.get("batch", "a"))?.value).toBe(2);
      expect((await b.kv.get("batch", "new"))?.version).toBe(1);
      expect(await b.kv.get("batch", "gone")).toBeUndefined();
      // One failed compare (a is at version 2 now) writes nothing at all.
      expect(
        await b.kv.batch([
          { ns: "batch", key: "new", value: "m" },
          { ns: "batch", key: "a", value: 3, ifVersion: 1 },
        ]),
      ).toBeUndefined();
      expect((await b.kv.get("batch", "new"))?.value).toBe("n");
      expect((await b.kv.get("batch", "a"))?.value).toBe(2);
      expect(
        await b.kv.batch([{ ns: "batch", key: "gone", value: undefined, ifVersion: 1 }]),
      ).toBeUndefined();
      await expect(
        b.kv.batch([
          { ns: "batch", key: "x", value: 1 },
          { ns: "batch", key: "x", value: 2 },
        ]),
      ).rejects.toThrow(/twice/);
    });

    it("lets one of many concurrent batches over the same keys win", async () => {
      const b = await create();
      const wins = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          b.kv.batch([
            // In opposite key orders, so that a backend locking rows as given would deadlock.
            ...(i % 2 === 0 ? ["x", "y"] : ["y", "x"]).map((key) => ({
              ns: "race",
              key,
              value: i,
              ifVersion: 0,
            })),
          ]),
        ),
      );
      expect(wins.filter((w) => w !== undefined)).toEqual([[1, 1]]);
      const winner = wins.findIndex((w) => w !== undefined);
      expect([(await b.kv.get("race", "x"))?.value, (await b.kv.get("race", "y"))?.value]).toEqual([
        winner,
        winner,
      ]);
    });

    it("lists a namespace in byte order, by prefix, live entries only", async () => {
      const b = await create();
      // Byte order: upper case before lower case, "/" before letters, multi-byte characters last.
      for (const k of ["b", "a", "B", "é", "a/x", "ab", "gone", "old"]) await b.kv.set("list", k, { k });
      await b.kv.set("other", "a", 1);
      await b.kv.delete("list", "gone");
      await b.kv.set("list", "old", 1, { ttlMs: 30 });
      await elapse(60);
      expect(await keys(b, "list")).toEqual(["B", "a", "a/x", "ab", "b", "é"]);
      expect(await keys(b, "list", { prefix: "a" })).toEqual(["a", "a/x", "ab"]);
      expect(await keys(b, "list", { prefix: "a/" })).toEqual(["a/x"]);
      expect(await keys(b, "list", { prefix: "zz" })).toEqual([]);
      const [entry] = await b.kv.list("list", { prefix: "a/", limit: 10 });
      expect(entry).toEqual({ key: "a/x", value: { k: "a/x" }, version: 1, expiresAt: undefined });
    });

    it("pages a listing by the last key of the previous page", async () => {
      const b = await create();
      const all = Array.from({ length: 7 }, (_, i) => `p/${String(i).padStart(2, "0")}`);
      for (const k of [...all].reverse()) await b.kv.set("page", k, k);
      await b.kv.set("page", "q", "not under p/");
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await keys(b, "page", { prefix: "p/", limit: 3, ...(after ? { after } : {}) });
        seen.push(...page);
        if (page.length < 3) break;
        after = page.at(-1);
      }
      expect(seen).toEqual(all);
    });

    it("takes a prefix literally: no wildcards", async () => {
      let b = await create();
      for (const k of ["p%1", "p_2", "px3", "P%4", "p\\5"]) await b.kv.set("lit", k, 1);
      b = await restart(b);
      expect(await keys(b, "lit", { prefix: "p%" })).toEqual(["p%1"]);
      expect(await keys(b, "lit", { prefix: "p_" })).toEqual(["p_2"]);
      expect(await keys(b, "lit", { prefix: "p\\" })).toEqual(["p\\5"]);
    });
  });
}
