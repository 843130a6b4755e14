// Type tests of `ctx`: the logger, emits and sends, key-value state, env, signal and invocation.
import { describe, expectTypeOf, it } from "vitest";
import type { Duration, EventInput, FunctionContext, InvocationInfo, KvItem, SendOptions } from "eddy";

declare const ctx: FunctionContext;

describe("ctx", () => {
  it("logs with a message and optional fields", () => {
    expectTypeOf(ctx.log.info).toEqualTypeOf<(message: string, fields?: Record<string, unknown>) => void>();
    ctx.log.error("failed", { orderId: "o-1" });
    // @ts-expect-error fields are an object
    ctx.log.warn("slow", 250);
  });

  it("emits one event or a batch, id and source optional", () => {
    expectTypeOf(ctx.emit).parameter(0).toEqualTypeOf<EventInput | EventInput[]>();
    expectTypeOf(ctx.emit({ type: "order.shipped", data: { id: 1 } })).toEqualTypeOf<Promise<void>>();
    void ctx.emit([{ type: "a" }, { type: "b", id: "b-1", source: "/x", subject: "s" }]);
    // @ts-expect-error an event needs a type
    void ctx.emit({ data: {} });
  });

  it("sends queue messages with group, dedup id and delay", () => {
    expectTypeOf(ctx.send).parameter(2).toEqualTypeOf<SendOptions | undefined>();
    void ctx.send("orders.fifo", { id: 1 }, { groupId: "c-1", dedupId: "o-1", delay: "30s" });
    // @ts-expect-error a delay is a Duration
    void ctx.send("jobs", {}, { delay: "soon" });
    expectTypeOf<SendOptions["delay"]>().toEqualTypeOf<Duration | undefined>();
  });

  it("reads and writes key-value state with versions", async () => {
    expectTypeOf(await ctx.kv.get<{ n: number }>("k")).toEqualTypeOf<KvItem<{ n: number }> | undefined>();
    expectTypeOf(await ctx.kv.set("k", 1, { ttl: "7d", ifVersion: 0 })).toEqualTypeOf<number | undefined>();
    expectTypeOf(await ctx.kv.delete("k", { ifVersion: 3 })).toEqualTypeOf<boolean>();
    const n = await ctx.kv.update<number>("count", (current) => {
      expectTypeOf(current).toEqualTypeOf<number | undefined>();
      return (current ?? 0) + 1;
    });
    expectTypeOf(n).toEqualTypeOf<number>();
    // @ts-expect-error a ttl is a Duration
    void ctx.kv.set("k", 1, { ttl: "a week" });
  });

  it("has read-only env, an abort signal and the invocation's facts", () => {
    expectTypeOf(ctx.env).toEqualTypeOf<Readonly<Record<string, string>>>();
    // @ts-expect-error env is read-only
    ctx.env.TOKEN = "x";
    expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
    expectTypeOf(ctx.invocation).toEqualTypeOf<InvocationInfo>();
    expectTypeOf(ctx.invocation.attempt).toEqualTypeOf<number>();
    expectTypeOf(ctx.invocation.deadline).toEqualTypeOf<number>();
  });
});
