import type { Registry } from "prom-client";
import { Buckets, registerComputed } from "../observability/computed-metrics.js";

const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

interface RouteStats {
  statuses: Map<number, number>;
  duration: Buckets;
  hit: number;
  miss: number;
}

/**
 * The gateway's Prometheus metrics, in the engine's registry: requests by route and status (API
 * Gateway's Count, 4XXError and 5XXError in one), their latency as the caller saw it, and cache
 * hits and misses. The route label is the declared route (`GET /orders/:id`), never the path, so
 * its values are as few as the routes.
 *
 * Counted in plain numbers on the hot path and turned into Prometheus series only when scraped
 * (see {@link registerComputed}): prom-client's own `observe` cost the cached route about 15% of
 * its throughput here.
 *
 * @example
 * const m = new GatewayMetrics(engine.observer.metrics.registry); m.request("GET /x", 200, 0.002);
 */
export class GatewayMetrics {
  readonly #routes = new Map<string, RouteStats>();

  constructor(registry: Registry) {
    registerComputed(
      registry,
      "eddy_http_requests_total",
      "Requests to function routes, by route and HTTP status.",
      "counter",
      () =>
        [...this.#routes].flatMap(([route, r]) =>
          [...r.statuses].map(([status, value]) => ({ labels: { route, status }, value })),
        ),
    );
    registerComputed(
      registry,
      "eddy_http_request_duration_seconds",
      "Time from a route's request to its response, by route (refusals included).",
      "histogram",
      () =>
        [...this.#routes].flatMap(([route, r]) =>
          r.duration.samples("eddy_http_request_duration_seconds", { route }),
        ),
    );
    registerComputed(
      registry,
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
    r.duration.observe(seconds);
  }

  /** A cached route was looked up. */
  cache(route: string, result: "hit" | "miss"): void {
    this.#route(route)[result]++;
  }

  #route(route: string): RouteStats {
    let r = this.#routes.get(route);
    if (!r) {
      r = { statuses: new Map(), duration: new Buckets(BOUNDS), hit: 0, miss: 0 };
      this.#routes.set(route, r);
    }
    return r;
  }
}
