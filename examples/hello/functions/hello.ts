import { defineFunction, on } from "eddy";

export default defineFunction<{ name: string }>(
  { name: "hello", triggers: [on.event({ type: ["greeting.sent"] })] },
  async (event, ctx) => {
    ctx.log.info(`hello, ${event.data?.name}`);
  },
);
