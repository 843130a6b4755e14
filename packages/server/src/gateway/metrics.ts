import type { Registry } from "prom-client";
import { Counter, Histogram } from "prom-client";

const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The gateway's Prometheus metrics, in the engine's registry: requests by route and status (API
 * Gateway's Count, 4XXError and 5XXError in one), their latency as the caller saw it, and cache
 * hits and misses. The route label is the declared route (`GET /orders/:id`), never the path, so
 * its values are as few as the routes.
 *
 * @example
 * const m = new GatewayMetrics(engine.observer.metrics.registry); m.request("GET /x", 200, 0.002);
 */
export class GatewayMetrics {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #cache: Counter;

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: "eddy_http_requests_total",
      help: "Requests to function routes, by route and HTTP status.",
      labelNames: ["route", "status"],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: "eddy_http_request_duration_seconds",
      help: "Time from a route's request to its response, by route (refusals included).",
      labelNames: ["route"],
      buckets: SECONDS,
      registers: [registry],
    });
    this.#cache = new Counter({
      name: "eddy_http_cache_total",
      help: "Response cache lookups of cached routes, by route and result (hit, miss).",
      labelNames: ["route", "result"],
      registers: [registry],
    });
  }

  // Label children are kept per route: on the hot path, no label object is hashed.
  readonly #routes = new Map<
    string,
    {
      duration: ReturnType<Histogram["labels"]>;
      statuses: Map<number, ReturnType<Counter["labels"]>>;
      hit: ReturnType<Counter["labels"]>;
      miss: ReturnType<Counter["labels"]>;
    }
  >();

  /** A response went out. */
  request(route: string, status: number, seconds: number): void {
    const r = this.#route(route);
    let counter = r.statuses.get(status);
    if (!counter) r.statuses.set(status, (counter = this.#requests.labels(route, String(status))));
    counter.inc();
    r.duration.observe(seconds);
  }

  /** A cached route was looked up. */
  cache(route: string, result: "hit" | "miss"): void {
    this.#route(route)[result].inc();
  }

  #route(route: string) {
    let r = this.#routes.get(route);
    if (!r) {
      r = {
        duration: this.#duration.labels(route),
        statuses: new Map(),
        hit: this.#cache.labels(route, "hit"),
        miss: this.#cache.labels(route, "miss"),
      };
      this.#routes.set(route, r);
    }
    return r;
  }
}
