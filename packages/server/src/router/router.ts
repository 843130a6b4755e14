import type { CloudEvent } from "eddy";
import type { NewDelivery } from "../backends/types.js";
import type { DeliveryPlan } from "../dispatch/delivery-plan.js";
import { valueAt } from "../dispatch/delivery-plan.js";
import { scheduleSource } from "../events/sources.js";
import { PatternIndex } from "./pattern-index.js";
import { ExtensionNames } from "./pattern-keys.js";

/** A queued run to cancel because of an event (cancelOn). */
export interface Cancellation {
  consumer: string;
  cancelKey: string;
}

/**
 * Routes an event to every function with a matching `on.event` trigger (and a schedule tick to
 * its function), through a compiled {@link PatternIndex}, and makes each delivery with the
 * function's {@link DeliveryPlan}. Replaced as a whole when the set of functions changes, so a
 * route call never sees half of a deploy.
 */
export class Router {
  #index = new PatternIndex<DeliveryPlan>();
  #cancelRules = new Map<string, { plan: DeliveryPlan; match: string }[]>();
  /** The extension attributes of the events routed (deploys warn about pattern keys none has). */
  readonly extensions = new ExtensionNames();

  /** Rebuilds the index from the deployed functions' plans. */
  setFunctions(plans: DeliveryPlan[]): void {
    this.prepare(plans)();
  }

  /**
   * Builds the index of `plans` without using it yet (a deploy builds everything before it swaps
   * anything): the returned function switches to it. Throws if a pattern does not compile.
   */
  prepare(plans: DeliveryPlan[]): () => void {
    const index = new PatternIndex<DeliveryPlan>();
    const cancelRules = new Map<string, { plan: DeliveryPlan; match: string }[]>();
    for (const plan of plans) {
      plan.config.triggers.forEach((t, i) => {
        if (t.kind === "event") index.add(`${plan.fn}#${i}`, t.pattern, plan);
      });
      if (plan.config.triggers.some((t) => t.kind === "schedule")) {
        index.add(`${plan.fn}#schedule`, { source: [scheduleSource(plan.fn)] }, plan);
      }
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
