import { defineFunction, on } from "eddy";
import type { OrderPlaced } from "../events.js";

/** stock.reserved → charge the customer → order.paid. */
export default defineFunction<OrderPlaced>(
  {
    name: "charge-payment",
    triggers: [on.event({ type: ["stock.reserved"] })],
    retries: { maxAttempts: 5, backoff: { initial: "500ms", factor: 2, max: "30s" } },
    timeout: "10s",
    emits: ["order.paid"],
  },
  async (event, ctx) => {
    const { orderId, items, customer } = event.data!;
    const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);
    ctx.log.info("charging", { orderId, customer, total });
    await ctx.emit({ type: "order.paid", source: "/shop/payments", data: { orderId, customer, total } });
  },
);
