import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** What the metrics read at scrape time: the deployed functions and their queues. */
export interface MetricsSource {
  functions(): { name: string; inFlight: number; warm: number; busy: number }[];
  deliveries(fn: string): Promise<{ ready: number; leased: number; dead: number }>;
}

/** One attempt, as the metrics count it. */
export interface AttemptMetric {
  fn: string;
  status: "succeeded" | "failed" | "skipped";
  outcome: "ack" | "retry" | "dead";
  durationMs: number;
  queueWaitMs?: number;
  coldStart?: boolean;
  coldStartMs?: number;
}

// Event types are chosen by producers: past this many distinct ones, the rest count as "other".
const MAX_TYPES = 200;
const SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Eddy's Prometheus metrics (prom-client), in a registry of their own so that several engines in
 * one process (tests) do not mix. Counters are updated on the hot path; gauges of queues and
 * sandboxes are read when scraped.
 *
 * @example
 * const metrics = new Metrics(); metrics.ingested("order.paid"); await metrics.text();
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #typeCounters = new Map<string, { inc(): void }>();
  readonly #byFunction = new Map<
    string,
    { ok: { inc(): void }; duration: { observe(v: number): void }; queueWait: { observe(v: number): void } }
  >();
  readonly #ingested = new Counter({
    name: "eddy_events_ingested_total",
    help: "Events accepted (durably stored), by type; duplicates are counted apart.",
    labelNames: ["type"],
    registers: [this.registry],
  });
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
  readonly #invocations = new Counter({
    name: "eddy_invocations_total",
    help: "Attempts by function, status (succeeded, failed, skipped) and outcome (ack, retry, dead).",
    labelNames: ["function", "status", "outcome"],
    registers: [this.registry],
  });
  readonly #retries = new Counter({
    name: "eddy_retries_total",
    help: "Failed attempts that will be retried, by function.",
    labelNames: ["function"],
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: "eddy_invocation_duration_seconds",
    help: "Attempt duration in the sandbox, by function.",
    labelNames: ["function"],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly #queueWait = new Histogram({
    name: "eddy_queue_wait_seconds",
    help: "Time from an event's acceptance to its first attempt's start, by function.",
    labelNames: ["function"],
    buckets: SECONDS,
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
  }

  ingested(type: string): void {
    let counter = this.#typeCounters.get(type);
    if (!counter) {
      const label = this.#typeCounters.size >= MAX_TYPES ? "other" : type;
      counter = this.#ingested.labels({ type: label });
      if (label !== "other") this.#typeCounters.set(type, counter);
    }
    counter.inc();
  }

  duplicate(): void {
    this.#duplicates.inc();
  }

  refused(code: string): void {
    this.#refused.inc({ code });
  }

  attempt(a: AttemptMetric): void {
    // Label-bound children per function: prom-client hashes a label object on every call otherwise.
    let m = this.#byFunction.get(a.fn);
    if (!m) {
      const labels = { function: a.fn };
      m = {
        ok: this.#invocations.labels({ ...labels, status: "succeeded", outcome: "ack" }),
        duration: this.#duration.labels(labels),
        queueWait: this.#queueWait.labels(labels),
      };
      this.#byFunction.set(a.fn, m);
    }
    if (a.status === "succeeded" && a.outcome === "ack") m.ok.inc();
    else this.#invocations.inc({ function: a.fn, status: a.status, outcome: a.outcome });
    if (a.status === "skipped") return;
    if (a.outcome === "retry") this.#retries.inc({ function: a.fn });
    m.duration.observe(a.durationMs / 1000);
    if (a.queueWaitMs !== undefined) m.queueWait.observe(a.queueWaitMs / 1000);
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
