import type { QueueTrigger } from "eddy";
import { InvalidFunctionConfigError } from "eddy";
import { queueConsumer } from "../../dispatch/delivery-plan.js";
import type { QueueService } from "../../queues/queue-service.js";
import type { TriggerKind } from "../kind.js";

/**
 * `on.queue`: the function consumes the queue's deliveries (`queue:<name>`, in order per message
 * group for a `.fifo` queue), and its deploy creates the queue with default attributes if it does
 * not exist. Messages come in through the queue API and `ctx.send` (`queues/`).
 */
export function queueKind(): TriggerKind<QueueTrigger> {
  let queues: QueueService | undefined;
  return {
    kind: "queue",
    start: (services) => void (queues = services.queues),
    consumer(fn, [first, ...rest]) {
      if (rest.length > 0 || fn.config.triggers.length > 1) {
        throw new InvalidFunctionConfigError(
          "triggers",
          "a queue consumer has exactly one trigger, on.queue(...)",
        );
      }
      const name = first!.trigger.queue;
      return { name: queueConsumer(name), ...(name.endsWith(".fifo") ? { ordered: true } : {}) };
    },
    async prepare(_fn, triggers) {
      for (const { trigger } of triggers) await queues!.ensure(trigger.queue);
    },
  };
}
