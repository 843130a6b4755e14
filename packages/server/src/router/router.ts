import type { CloudEvent, EventPattern } from "eddy";
import type { NewDelivery } from "../backends/types.js";
import type { DeliveryPlan } from "../dispatch/delivery-plan.js";
import { valueAt } from "../dispatch/delivery-plan.js";
import { PatternIndex } from "./pattern-index.js";
import { ExtensionNames } from "./pattern-keys.js";

/** A queued run to cancel because of an event (cancelOn). */
export interface Cancellation {
  consumer: string;
  cancelKey: string;
}

/** A pattern that routes events to a function, with an id unique in the index. */
export interface RoutePattern {
  id: string;
  pattern: EventPattern;
}

/**
 * Routes an event to every function with a matching pattern (what its trigger kinds compile:
 * `on.event` rules, its schedule's ticks), through a compiled {@link PatternIndex}, and makes each
 * delivery with the function's {@link DeliveryPlan}. Replaced as a whole when the set of functions changes, so a
 * route call never sees half of a deploy.
 */
export class Router {
  #index = new PatternIndex<DeliveryPlan>();
  #cancelRules = new Map<string, { plan: DeliveryPlan; match: string }[]>();
  /** The extension attributes of the events routed (deploys warn about pattern keys none has). */
  readonly extensions = new ExtensionNames();

  /**
   * Builds the index of `plans` without using it yet (a deploy builds everything before it swaps
   * anything): the returned function switches to it. Throws if a pattern does not compile.
   *
   * @param patternsOf the patterns that route to a plan's function (its trigger kinds say).
   */
  prepare(plans: DeliveryPlan[], patternsOf: (plan: DeliveryPlan) => RoutePattern[]): () => void {
    const index = new PatternIndex<DeliveryPlan>();
    const cancelRules = new Map<string, { plan: DeliveryPlan; match: string }[]>();
    for (const plan of plans) {
      for (const { id, pattern } of patternsOf(plan)) index.add(id, pattern, plan);
      for (const c of plan.config.cancelOn) {
        const list = cancelRules.get(c.event) ?? [];
        list.push({ plan, match: c.match });
        cancelRules.set(c.event, list);
      }
    }
    return () => {
      this.#index = index;
      this.#cancelRules = cancelRules;
    };
  }

  /** The deliveries `event` makes: one per matching function. */
  route(event: CloudEvent): NewDelivery[] {
    this.extensions.note(event);
    const plans = this.#index.match(event as unknown as Record<string, unknown>);
    const out: NewDelivery[] = [];
    const seen = plans.length > 1 ? new Set<DeliveryPlan>() : undefined;
    for (const plan of plans) {
      if (seen) {
        if (seen.has(plan)) continue;
        seen.add(plan);
      }
      out.push(plan.delivery(event));
    }
    return out;
  }

  /** The queued runs `event` cancels (functions whose cancelOn names its type). */
  cancellations(event: CloudEvent): Cancellation[] {
    const rules = this.#cancelRules.get(event.type);
    if (!rules) return [];
    const out: Cancellation[] = [];
    for (const { plan, match } of rules) {
      const v = valueAt(event, match);
      if (v !== undefined) out.push({ consumer: plan.consumer, cancelKey: JSON.stringify(v) });
    }
    return out;
  }
}
