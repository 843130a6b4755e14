// The cluster joins concurrent writes (coalesce.ts): what it passes on and what each caller
// gets back. The backend contract checks the same through the real log, on NATS and PostgreSQL;
// here a recording append shows how the calls were joined.
import { expect, it } from "vitest";
import type { AppendEntry, AppendResult } from "@eddy/server";
import { coalesceAppends, Joiner } from "../src/coalesce.js";

const entry = (id: string): AppendEntry => ({
  event: { specversion: "1.0", id, source: "/test", type: "test" },
  dedupKey: `/test\0${id}`,
  deliveries: [],
});

function recorder(fail?: (ids: string[]) => boolean) {
  const calls: AppendEntry[][] = [];
  let seq = 0;
  const append = coalesceAppends(async (entries) => {
    calls.push(entries);
    await new Promise((r) => setTimeout(r, 20));
    if (fail?.(entries.map((e) => e.event.id))) throw new Error("store down");
    return entries.map((): AppendResult => ({ status: "accepted", seq: ++seq }));
  });
  return { calls, append };
}

it("passes the first call on at once and joins the calls made while it runs into one", async () => {
  const { calls, append } = recorder();
  const results = await Promise.all([
    append([entry("a")], { dedupWindowMs: 1000 }),
    append([entry("b"), entry("c")], { dedupWindowMs: 5000 }),
    append([entry("d")], { dedupWindowMs: 1000 }),
  ]);
  expect(calls.map((c) => c.map((e) => e.event.id))).toEqual([["a"], ["b", "c", "d"]]);
  // Each entry keeps its caller's dedup window.
  expect(calls[1]!.map((e) => e.dedupWindowMs)).toEqual([5000, 5000, 1000]);
  expect(results).toEqual([
    [{ status: "accepted", seq: 1 }],
    [
      { status: "accepted", seq: 2 },
      { status: "accepted", seq: 3 },
    ],
    [{ status: "accepted", seq: 4 }],
  ]);
});

it("fails every caller of a joined append that failed, and only those", async () => {
  const { append } = recorder((ids) => ids.includes("b"));
  const settled = await Promise.allSettled([
    append([entry("a")], { dedupWindowMs: 1000 }),
    append([entry("b")], { dedupWindowMs: 1000 }),
    append([entry("c")], { dedupWindowMs: 1000 }),
  ]);
  expect(settled.map((s) => s.status)).toEqual(["fulfilled", "rejected", "rejected"]);
  // The next call runs again.
  expect(await append([entry("d")], { dedupWindowMs: 1000 })).toEqual([{ status: "accepted", seq: 2 }]);
});

it("with waitTurn, the calls of one turn go together, and flush waits for every run", async () => {
  const runs: number[][] = [];
  const joiner = new Joiner<number, number>(
    async (items) => {
      runs.push(items);
      await new Promise((r) => setTimeout(r, 10));
      return items.map((i) => i * 2);
    },
    { waitTurn: true },
  );
  const first = [1, 2, 3].map((i) => joiner.add(i));
  await new Promise((r) => setImmediate(r));
  const later = joiner.add(4);
  await joiner.flush();
  expect(runs).toEqual([[1, 2, 3], [4]]);
  expect(await Promise.all([...first, later])).toEqual([2, 4, 6, 8]);
});
