import { randomUUID } from "node:crypto";
import { defineFunction, on } from "eddy";
import type { OrderPlaced } from "../events.js";

/** POST /orders → order.placed: the shop's front door, through the API gateway. */
export default defineFunction(
  {
    name: "place-order",
    triggers: [
      on.http("POST /orders", {
        public: true,
        summary: "Place an order",
        rateLimit: { limit: 20, period: "1s", by: "ip" },
        schema: {
          body: {
            type: "object",
            required: ["customer", "items"],
            properties: {
              customer: { type: "string", format: "email" },
              items: {
                type: "array",
                minItems: 1,
                items: {
                  type: "object",
                  required: ["sku", "quantity", "price"],
                  properties: {
                    sku: { type: "string", minLength: 1 },
                    quantity: { type: "integer", minimum: 1 },
                    price: { type: "number", minimum: 0 },
                  },
                },
              },
            },
          },
        },
      }),
    ],
    emits: ["order.placed"],
  },
  async (request, ctx) => {
    const order: OrderPlaced = {
      orderId: randomUUID(),
      ...((await request.json()) as Omit<OrderPlaced, "orderId">),
    };
    // Published when this request succeeds, before the response goes out.
    await ctx.emit({ type: "order.placed", source: "/shop/web", data: order });
    return Response.json({ orderId: order.orderId }, { status: 202 });
  },
);
