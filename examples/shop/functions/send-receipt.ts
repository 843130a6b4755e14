import { defineFunction, on } from "eddy";
import type { OrderPaid } from "../events.js";

/** order.paid (above 0) → send the receipt → receipt.sent. */
export default defineFunction<OrderPaid>(
  {
    name: "send-receipt",
    triggers: [on.event({ type: ["order.paid"], data: { total: [{ numeric: [">", 0] }] } })],
    emits: ["receipt.sent"],
  },
  async (event, ctx) => {
    const { orderId, customer, total } = event.data!;
    ctx.log.info("receipt sent", { orderId, to: customer, total });
    await ctx.emit({ type: "receipt.sent", source: "/shop/receipts", data: { orderId, customer } });
  },
);
