import { context, SpanKind, SpanStatusCode, trace, TraceFlags } from "@opentelemetry/api";
import type { Attributes, Tracer } from "@opentelemetry/api";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, RandomIdGenerator, TracerProvider } from "@opentelemetry/sdk-trace";
import type { IdGenerator } from "@opentelemetry/sdk-trace";
import type { TraceIds } from "../backends/types.js";

/** A finished piece of work to export as an OpenTelemetry span. */
export interface SpanRecord extends TraceIds {
  name: string;
  start: number;
  end: number;
  kind?: "internal" | "server" | "consumer" | "producer";
  attributes?: Attributes;
  error?: string;
  events?: { name: string; time: number; attributes?: Attributes }[];
}

/**
 * The OTel SDK chooses span ids itself; Eddy's spans have ids already (they are in the events'
 * traceparent and in the records), so the generator hands out the id of the span being created.
 */
class PresetIds implements IdGenerator {
  readonly #random = new RandomIdGenerator();
  next: { traceId: string; spanId: string } | undefined;

  generateTraceId(): string {
    return this.next?.traceId ?? this.#random.generateTraceId();
  }

  generateSpanId(): string {
    return this.next?.spanId ?? this.#random.generateSpanId();
  }
}

const KINDS = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  consumer: SpanKind.CONSUMER,
  producer: SpanKind.PRODUCER,
};

/**
 * Exports Eddy's spans over OTLP/HTTP when an endpoint is configured (batched, off the hot path);
 * does nothing otherwise. The built-in trace view does not depend on it: it reads the records.
 */
export class SpanExport {
  readonly #provider: TracerProvider | undefined;
  readonly #tracer: Tracer | undefined;
  readonly #ids = new PresetIds();
  readonly #threshold: number;

  /**
   * @param endpoint OTLP/HTTP base URL, e.g. http://127.0.0.1:4318 (spans go to /v1/traces).
   * @param sampleRatio share of traces exported, 0-1 (default 1): decided on the trace id, so a
   *   trace is exported whole or not at all, on every node alike.
   */
  constructor(endpoint: string | undefined, serviceName = "eddy", sampleRatio = 1) {
    this.#threshold = Math.max(0, Math.min(1, sampleRatio)) * 0x1_0000_0000;
    if (!endpoint) return;
    const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` });
    this.#provider = new TracerProvider({
      resource: resourceFromAttributes({ "service.name": serviceName }),
      idGenerator: this.#ids,
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 500 })],
    });
    this.#tracer = this.#provider.getTracer("eddy");
  }

  get enabled(): boolean {
    return this.#tracer !== undefined;
  }

  /** Queues one span for export. */
  record(s: SpanRecord): void {
    if (!this.#tracer) return;
    // The trace id's last 8 hex digits are random (see newTraceId): a uniform sample.
    if (this.#threshold < 0x1_0000_0000 && parseInt(s.traceId.slice(-8), 16) >= this.#threshold) return;
    const parent = s.parentSpanId
      ? trace.setSpanContext(context.active(), {
          traceId: s.traceId,
          spanId: s.parentSpanId,
          traceFlags: TraceFlags.SAMPLED,
          isRemote: true,
        })
      : context.active();
    this.#ids.next = { traceId: s.traceId, spanId: s.spanId };
    const span = this.#tracer.startSpan(
      s.name,
      {
        startTime: s.start,
        kind: KINDS[s.kind ?? "internal"],
        attributes: s.attributes ?? {},
        root: !s.parentSpanId,
      },
      parent,
    );
    this.#ids.next = undefined;
    for (const e of s.events ?? []) span.addEvent(e.name, e.attributes ?? {}, e.time);
    if (s.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: s.error });
    span.end(s.end);
  }

  /** Sends what is queued. */
  async flush(): Promise<void> {
    await this.#provider?.forceFlush();
  }

  /** Sends what is queued and stops. */
  async close(): Promise<void> {
    await this.#provider?.shutdown();
  }
}
