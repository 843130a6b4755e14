import { EventEmitter } from "node:events";
import type { AppendEntry, InvocationRecord } from "../backends/types.js";
import { faasTrigger } from "../events/sources.js";
import type { MetricsSource } from "./metrics.js";
import { Metrics } from "./metrics.js";
import { newSpanId } from "./trace-context.js";
import { SpanExport } from "./tracer.js";

/** Options of the observability layer. */
export interface ObserverOptions {
  /** false turns metrics, spans and trace ids off (to measure what they cost). Default true. */
  enabled?: boolean;
  /** OTLP/HTTP endpoint to export spans to (e.g. http://127.0.0.1:4318); none: no export. */
  otlpEndpoint?: string;
  serviceName?: string;
  /** Share of traces exported over OTLP, 0-1. Default 1 (every trace). */
  sampleRatio?: number;
}

/**
 * Where the engine reports what happens, for metrics (Prometheus), spans (OTLP) and live log
 * streams. The engine calls it after each durable step; nothing here can fail the step.
 */
export class Observer {
  readonly metrics: Metrics;
  readonly spans: SpanExport;
  readonly enabled: boolean;
  readonly #live = new EventEmitter();

  constructor(options: ObserverOptions = {}, source?: MetricsSource) {
    this.enabled = options.enabled ?? true;
    this.metrics = new Metrics(source);
    this.spans = new SpanExport(options.otlpEndpoint, options.serviceName, options.sampleRatio);
    this.#live.setMaxListeners(0);
  }

  /** Events were appended (ingested, emitted, sent to a queue): count them, export their ingest spans. */
  appended(entries: AppendEntry[], results: { status: string }[], start: number, end: number): void {
    if (!this.enabled) return;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      if (results[i]?.status === "duplicate") {
        this.metrics.duplicate();
        continue;
      }
      this.metrics.ingested(entry.event.type);
      if (this.spans.enabled && entry.trace) {
        this.spans.record({
          ...entry.trace,
          name: `eddy.ingest ${entry.event.type}`,
          kind: "producer",
          start,
          end,
          attributes: {
            "cloudevents.event_id": entry.event.id,
            "cloudevents.event_source": entry.event.source,
            "cloudevents.event_type": entry.event.type,
            "eddy.deliveries": entry.deliveries.map((d) => d.fn).join(","),
          },
        });
      }
    }
  }

  refused(code: string): void {
    if (this.enabled) this.metrics.refused(code);
  }

  /** An attempt ended and its record is durable. */
  attempt(
    rec: InvocationRecord,
    detail: { queueWaitMs?: number; coldStartMs?: number; retryAt?: number } = {},
  ): void {
    this.#live.emit("invocation", rec, detail.retryAt);
    if (!this.enabled) return;
    this.metrics.attempt({
      fn: rec.fn,
      status: rec.status,
      outcome: rec.outcome,
      durationMs: rec.durationMs,
      queueWaitMs: detail.queueWaitMs,
      coldStart: rec.coldStart,
      coldStartMs: detail.coldStartMs,
    });
    if (this.spans.enabled && rec.trace) {
      const attributes = {
        "faas.name": rec.fn,
        "faas.invocation_id": rec.id,
        "faas.coldstart": rec.coldStart ?? false,
        "faas.trigger": faasTrigger(rec.fn, rec.eventSource),
        "eddy.version": rec.version,
        "eddy.attempt": rec.attempt,
        "eddy.status": rec.status,
        "eddy.outcome": rec.outcome,
        "cloudevents.event_id": rec.eventId,
        ...(rec.skipReason ? { "eddy.skip_reason": rec.skipReason } : {}),
      };
      if (detail.queueWaitMs !== undefined && rec.trace.parentSpanId) {
        this.spans.record({
          traceId: rec.trace.traceId,
          spanId: newSpanId(),
          parentSpanId: rec.trace.parentSpanId,
          name: `eddy.queue_wait ${rec.fn}`,
          start: rec.startedAt - detail.queueWaitMs,
          end: rec.startedAt,
        });
      }
      this.spans.record({
        ...rec.trace,
        name: `eddy.invoke ${rec.fn}`,
        kind: "consumer",
        start: rec.startedAt,
        end: rec.startedAt + rec.durationMs,
        attributes,
        ...(rec.error ? { error: `${rec.error.name}: ${rec.error.message}` } : {}),
        ...(detail.retryAt !== undefined
          ? {
              events: [
                {
                  name: "eddy.retry",
                  time: rec.startedAt + rec.durationMs,
                  attributes: { "eddy.retry_at": new Date(detail.retryAt).toISOString() },
                },
              ],
            }
          : {}),
      });
    }
  }

  /**
   * Follows invocation records as they are stored (live log streams, `eddy dev`'s output), with
   * when the next attempt is due if the outcome is a retry; returns the unsubscribe.
   */
  follow(listener: (rec: InvocationRecord, retryAt?: number) => void): () => void {
    this.#live.on("invocation", listener);
    return () => this.#live.off("invocation", listener);
  }

  async close(): Promise<void> {
    await this.spans.close();
  }
}
