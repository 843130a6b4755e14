import { defineFunction, NonRetriableError, on } from "eddy";
import type { OrderPlaced } from "../events.js";

/** order.placed → reserve the items → stock.reserved (or a non-retriable refusal for an empty order). */
export default defineFunction<OrderPlaced>(
  {
    name: "reserve-stock",
    triggers: [on.event({ type: ["order.placed"], source: [{ prefix: "/shop" }] })],
    retries: { maxAttempts: 5, backoff: { initial: "200ms", factor: 2, max: "5s" } },
    emits: ["stock.reserved"],
  },
  async (event, ctx) => {
    const { orderId, items } = event.data!;
    if (items.length === 0) throw new NonRetriableError(`order ${orderId} has no items`);
    ctx.log.info("reserving stock", { orderId, items: items.length });
    await ctx.emit({ type: "stock.reserved", source: "/shop/inventory", data: { ...event.data! } });
  },
);
