import type { Registry } from "prom-client";

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface RouteStats {
  statuses: Map<number, number>;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
  hit: number;
  miss: number;
}

type Value = { metricName?: string; labels: Record<string, string | number>; value: number };

/**
 * The gateway's Prometheus metrics, in the engine's registry: requests by route and status (API
 * Gateway's Count, 4XXError and 5XXError in one), their latency as the caller saw it, and cache
 * hits and misses. The route label is the declared route (`GET /orders/:id`), never the path, so
 * its values are as few as the routes.
 *
 * Counted in plain numbers on the hot path and turned into Prometheus series only when scraped:
 * prom-client's own `observe` validates and hashes labels on every call, which cost the cached
 * route about 15% of its throughput here.
 *
 * @example
 * const m = new GatewayMetrics(engine.observer.metrics.registry); m.request("GET /x", 200, 0.002);
 */
export class GatewayMetrics {
  readonly #routes = new Map<string, RouteStats>();

  constructor(registry: Registry) {
    const metric = (name: string, help: string, type: "counter" | "histogram", values: () => Value[]) =>
      registry.registerMetric({
        name,
        help,
        type,
        aggregator: "sum",
        get: () => Promise.resolve({ name, help, type, aggregator: "sum", values: values() }),
        reset: () => undefined,
      } as never);
    metric(
      "eddy_http_requests_total",
      "Requests to function routes, by route and HTTP status.",
      "counter",
      () =>
        [...this.#routes].flatMap(([route, r]) =>
          [...r.statuses].map(([status, value]) => ({ labels: { route, status }, value })),
        ),
    );
    metric(
      "eddy_http_request_duration_seconds",
      "Time from a route's request to its response, by route (refusals included).",
      "histogram",
      () =>
        [...this.#routes].flatMap(([route, r]) => histogram("eddy_http_request_duration_seconds", route, r)),
    );
    metric(
      "eddy_http_cache_total",
      "Response cache lookups of cached routes, by route and result (hit, miss).",
      "counter",
      () =>
        [...this.#routes]
          .filter(([, r]) => r.hit + r.miss > 0)
          .flatMap(([route, r]) => [
            { labels: { route, result: "hit" }, value: r.hit },
            { labels: { route, result: "miss" }, value: r.miss },
          ]),
    );
  }

  /** A response went out. */
  request(route: string, status: number, seconds: number): void {
    const r = this.#route(route);
    r.statuses.set(status, (r.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    r.buckets[i]!++;
    r.sum += seconds;
    r.count++;
  }

  /** A cached route was looked up. */
  cache(route: string, result: "hit" | "miss"): void {
    this.#route(route)[result]++;
  }

  #route(route: string): RouteStats {
    let r = this.#routes.get(route);
    if (!r) {
      r = {
        statuses: new Map(),
        buckets: new Array<number>(BOUNDS.length + 1).fill(0),
        sum: 0,
        count: 0,
        hit: 0,
        miss: 0,
      };
      this.#routes.set(route, r);
    }
    return r;
  }
}

function histogram(name: string, route: string, r: RouteStats): Value[] {
  const out: Value[] = [];
  let cumulative = 0;
  BOUNDS.forEach((le, i) => {
    cumulative += r.buckets[i]!;
    out.push({ metricName: `${name}_bucket`, labels: { le, route }, value: cumulative });
  });
  out.push({ metricName: `${name}_bucket`, labels: { le: "+Inf", route }, value: r.count });
  out.push({ metricName: `${name}_sum`, labels: { route }, value: r.sum });
  out.push({ metricName: `${name}_count`, labels: { route }, value: r.count });
  return out;
}
