import type { CloudEvent } from "eddy";
import type { Records, UsageRow } from "../backends/types.js";
import { BUDGET_SOURCE } from "../events/sources.js";
import type { Logger } from "./logger.js";

/** Prices of compute and requests. */
export interface Pricing {
  /** Per GB-second of billed duration × memory. */
  perGbSecond: number;
  /** Per million invocations. */
  perMillionRequests: number;
  currency: string;
}

/**
 * Defaults: AWS Lambda's public on-demand price for x86 functions in us-east-1 (first tier):
 * USD 0.0000166667 per GB-second and USD 0.20 per million requests.
 */
export const DEFAULT_PRICING: Pricing = {
  perGbSecond: 0.0000166667,
  perMillionRequests: 0.2,
  currency: "USD",
};

/** A spending limit for one function (or all) per day or month (UTC). */
export interface Budget {
  function?: string;
  limit: number;
  period: "day" | "month";
}

/** Usage and cost of one function, or the total. */
export interface UsageLine extends UsageRow {
  cost: number;
}

/** The cost of usage rows under a price table. */
export function priced(rows: UsageRow[], pricing: Pricing): { functions: UsageLine[]; total: UsageLine } {
  const cost = (r: { invocations: number; gbSeconds: number }) =>
    round(r.gbSeconds * pricing.perGbSecond + (r.invocations / 1e6) * pricing.perMillionRequests);
  const functions = rows.map((r) => ({ ...r, gbSeconds: round(r.gbSeconds), cost: cost(r) }));
  const sum = rows.reduce(
    (t, r) => ({
      invocations: t.invocations + r.invocations,
      billedMs: t.billedMs + r.billedMs,
      gbSeconds: t.gbSeconds + r.gbSeconds,
    }),
    { invocations: 0, billedMs: 0, gbSeconds: 0 },
  );
  return { functions, total: { fn: "*", ...sum, gbSeconds: round(sum.gbSeconds), cost: cost(sum) } };
}

/** Start of the budget period containing `now` (UTC). */
export function periodStart(period: Budget["period"], now = new Date()): number {
  return period === "day"
    ? Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())
    : Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
}

/**
 * Checks budgets on an interval and, the first time one is crossed in a period, publishes an
 * `eddy.budget.exceeded` event (its id names the budget and the period, so it is published once
 * per period even across restarts and nodes) and logs a warning.
 */
export class BudgetWatcher {
  readonly #budgets: Budget[];
  readonly #records: Records;
  readonly #pricing: Pricing;
  readonly #publish: (event: CloudEvent) => Promise<void>;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    budgets: Budget[];
    records: Records;
    pricing: Pricing;
    publish: (event: CloudEvent) => Promise<void>;
    log: Logger;
    intervalMs: number;
  }) {
    this.#budgets = options.budgets;
    this.#records = options.records;
    this.#pricing = options.pricing;
    this.#publish = options.publish;
    this.#log = options.log;
    if (options.budgets.length > 0) {
      this.#timer = setInterval(() => void this.check(), options.intervalMs);
      this.#timer.unref();
    }
  }

  /** Checks every budget now. */
  async check(now = Date.now()): Promise<void> {
    for (const b of this.#budgets) {
      try {
        const since = periodStart(b.period, new Date(now));
        const rows = (await this.#records.usage(since, now + 1)).filter(
          (r) => !b.function || r.fn === b.function,
        );
        const { total } = priced(rows, this.#pricing);
        if (total.cost <= b.limit) continue;
        const name = b.function ?? "total";
        const period = new Date(since).toISOString().slice(0, b.period === "day" ? 10 : 7);
        this.#log.warn({ budget: name, limit: b.limit, spent: total.cost, period }, "budget exceeded");
        await this.#publish({
          specversion: "1.0",
          id: `budget:${name}:${b.period}:${period}`,
          source: BUDGET_SOURCE,
          type: "eddy.budget.exceeded",
          time: new Date(now).toISOString(),
          data: {
            function: b.function ?? null,
            limit: b.limit,
            spent: total.cost,
            currency: this.#pricing.currency,
            period: b.period,
            periodStart: new Date(since).toISOString(),
            invocations: total.invocations,
            gbSeconds: total.gbSeconds,
          },
        });
      } catch (err) {
        this.#log.warn({ err }, "budget check failed");
      }
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

function round(v: number): number {
  return Math.round(v * 1e12) / 1e12;
}
