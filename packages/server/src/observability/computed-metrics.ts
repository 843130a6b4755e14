import type { Registry } from "prom-client";

/** One sample of a metric family, as prom-client formats it. */
export type Sample = { metricName?: string; labels: Record<string, string | number>; value: number };

/**
 * Registers a metric family whose samples are computed when scraped, from plain numbers the hot
 * path keeps. prom-client's own `inc` and `observe` validate and hash their labels on every call
 * (about 0.3 µs each, several per event); prom-client still formats the exposition.
 */
export function registerComputed(
  registry: Registry,
  name: string,
  help: string,
  type: "counter" | "histogram",
  samples: () => Sample[],
): void {
  registry.registerMetric({
    name,
    help,
    type,
    aggregator: "sum",
    get: () => Promise.resolve({ name, help, type, aggregator: "sum", values: samples() }),
    reset: () => undefined,
  } as never);
}

/** Observations of one histogram series: a count per bucket (not cumulative; the last is +Inf). */
export class Buckets {
  readonly #bounds: readonly number[];
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.#bounds.length && value > this.#bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** The series' samples: cumulative `_bucket`s, `_sum` and `_count`. */
  samples(name: string, labels: Record<string, string>): Sample[] {
    const out: Sample[] = [];
    let cumulative = 0;
    this.#bounds.forEach((le, i) => {
      cumulative += this.counts[i]!;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: "+Inf" }, value: this.count });
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
    return out;
  }
}
