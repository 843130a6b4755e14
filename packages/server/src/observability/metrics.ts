import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { Buckets, registerComputed } from "./computed-metrics.js";
import { WorkflowMetrics } from "./workflow-metrics.js";

/** What the metrics read at scrape time: the deployed functions and their queues. */
export interface MetricsSource {
  functions(): { name: string; inFlight: number; warm: number; busy: number }[];
  deliveries(fn: string): Promise<{ ready: number; leased: number; dead: number }>;
  /** What ingest refuses now (backpressure): disk, store, backlog, and consumers at their limit. */
  refusing?(): { disk: boolean; store: boolean; backlog: boolean; consumers: string[] };
}

/** One attempt, as the metrics count it. */
export interface AttemptMetric {
  fn: string;
  status: "succeeded" | "failed" | "skipped";
  outcome: "ack" | "retry" | "dead";
  durationMs: number;
  queueWaitMs?: number | undefined;
  coldStart?: boolean | undefined;
  coldStartMs?: number | undefined;
}

// Event types are chosen by producers: past this many distinct ones, the rest count as "other".
const MAX_TYPES = 200;
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** What the metrics keep of one function's attempts. */
interface FunctionStats {
  /** Attempts that succeeded and were acked (nearly all), apart from the rest for speed. */
  acked: number;
  /** Other attempts by `status outcome`. */
  others: Map<string, number>;
  duration: Buckets;
  queueWait: Buckets;
}

/**
 * Eddy's Prometheus metrics, in a registry of their own so that several engines in one process
 * (tests) do not mix. What every event and attempt updates (events by type, attempts by outcome,
 * duration and queue wait) is counted in plain numbers and computed when scraped
 * ({@link registerComputed}); rarer counters are prom-client's own; gauges of queues and sandboxes
 * are read when scraped.
 *
 * @example
 * const metrics = new Metrics(); metrics.ingested("order.paid"); await metrics.text();
 */
export class Metrics {
  readonly registry = new Registry();
  /** Runs, steps and waits of workflows. */
  readonly workflows = new WorkflowMetrics(this.registry);
  readonly #types = new Map<string, number>();
  readonly #functions = new Map<string, FunctionStats>();
  readonly #duplicates = new Counter({
    name: "eddy_events_duplicate_total",
    help: "Events already accepted within the dedup window (stored once, not run again).",
    registers: [this.registry],
  });
  readonly #refused = new Counter({
    name: "eddy_events_refused_total",
    help: "Events refused, by error code.",
    labelNames: ["code"],
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: "eddy_retries_total",
    help: "Failed attempts that will be retried, by function.",
    labelNames: ["function"],
    registers: [this.registry],
  });
  readonly #coldStarts = new Counter({
    name: "eddy_cold_starts_total",
    help: "Attempts that started a sandbox, by function.",
    labelNames: ["function"],
    registers: [this.registry],
  });
  readonly #coldStartTime = new Histogram({
    name: "eddy_cold_start_seconds",
    help: "Time to start a sandbox and load the function, by function.",
    labelNames: ["function"],
    buckets: SECONDS,
    registers: [this.registry],
  });

  constructor(source?: MetricsSource) {
    const fns = () => [...this.#functions];
    registerComputed(
      this.registry,
      "eddy_events_ingested_total",
      "Events accepted (durably stored), by type; duplicates are counted apart.",
      "counter",
      () => [...this.#types].map(([type, value]) => ({ labels: { type }, value })),
    );
    registerComputed(
      this.registry,
      "eddy_invocations_total",
      "Attempts by function, status (succeeded, failed, skipped) and outcome (ack, retry, dead).",
      "counter",
      () =>
        fns().flatMap(([fn, f]) => [
          ...(f.acked > 0
            ? [{ labels: { function: fn, status: "succeeded", outcome: "ack" }, value: f.acked }]
            : []),
          ...[...f.others].map(([key, value]) => {
            const [status, outcome] = key.split(" ") as [string, string];
            return { labels: { function: fn, status, outcome }, value };
          }),
        ]),
    );
    const histogram = (name: string, help: string, pick: (f: FunctionStats) => Buckets) =>
      registerComputed(this.registry, name, help, "histogram", () =>
        fns().flatMap(([fn, f]) => (pick(f).count > 0 ? pick(f).samples(name, { function: fn }) : [])),
      );
    histogram(
      "eddy_invocation_duration_seconds",
      "Attempt duration in the sandbox, by function.",
      (f) => f.duration,
    );
    histogram(
      "eddy_queue_wait_seconds",
      "Time from an event's acceptance to its first attempt's start, by function.",
      (f) => f.queueWait,
    );
    if (!source) return;
    const fnGauge = (
      name: string,
      help: string,
      read: (f: ReturnType<MetricsSource["functions"]>[number]) => number,
    ) =>
      new Gauge({
        name,
        help,
        labelNames: ["function"],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const f of source.functions()) this.set({ function: f.name }, read(f));
        },
      });
    fnGauge("eddy_in_flight", "Attempts running now, by function.", (f) => f.inFlight);
    fnGauge("eddy_sandboxes_warm", "Idle sandboxes kept warm, by function.", (f) => f.warm);
    fnGauge("eddy_sandboxes_busy", "Sandboxes running an attempt, by function.", (f) => f.busy);
    for (const [name, help, pick] of [
      [
        "eddy_backlog",
        "Deliveries waiting (ready or leased), by function.",
        (d: { ready: number; leased: number }) => d.ready + d.leased,
      ],
      [
        "eddy_dead_letters",
        "Deliveries in the dead-letter queue, by function.",
        (d: { dead: number }) => d.dead,
      ],
    ] as const) {
      new Gauge({
        name,
        help,
        labelNames: ["function"],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const f of source.functions()) {
            this.set(
              { function: f.name },
              pick((await source.deliveries(f.name)) as { ready: number; leased: number; dead: number }),
            );
          }
        },
      });
    }
    new Gauge({
      name: "eddy_ingest_refusing",
      help: "1 while ingest refuses events (backpressure), by reason: disk, store, backlog, function (with its name).",
      labelNames: ["reason", "function"],
      registers: [this.registry],
      collect() {
        this.reset();
        const r = source.refusing?.();
        if (!r) return;
        for (const reason of ["disk", "store", "backlog"] as const)
          this.set({ reason, function: "" }, r[reason] ? 1 : 0);
        for (const fn of r.consumers) this.set({ reason: "function", function: fn }, 1);
      },
    });
  }

  ingested(type: string): void {
    const n = this.#types.get(type);
    if (n !== undefined) this.#types.set(type, n + 1);
    else if (this.#types.size < MAX_TYPES) this.#types.set(type, 1);
    else this.#types.set("other", (this.#types.get("other") ?? 0) + 1);
  }

  duplicate(): void {
    this.#duplicates.inc();
  }

  refused(code: string): void {
    this.#refused.inc({ code });
  }

  attempt(a: AttemptMetric): void {
    let f = this.#functions.get(a.fn);
    if (!f) {
      f = { acked: 0, others: new Map(), duration: new Buckets(SECONDS), queueWait: new Buckets(SECONDS) };
      this.#functions.set(a.fn, f);
    }
    if (a.status === "succeeded" && a.outcome === "ack") f.acked++;
    else {
      const key = `${a.status} ${a.outcome}`;
      f.others.set(key, (f.others.get(key) ?? 0) + 1);
    }
    if (a.status === "skipped") return;
    if (a.outcome === "retry") this.#retries.inc({ function: a.fn });
    f.duration.observe(a.durationMs / 1000);
    if (a.queueWaitMs !== undefined) f.queueWait.observe(a.queueWaitMs / 1000);
    if (a.coldStart) {
      this.#coldStarts.inc({ function: a.fn });
      if (a.coldStartMs !== undefined) this.#coldStartTime.observe({ function: a.fn }, a.coldStartMs / 1000);
    }
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
