import { createServer } from "node:http";
import type { AddressInfo, Server } from "node:net";
import parsePrometheus from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { drained, fnSource, getJson, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";
import { waitForRun, workflowSource } from "./workflow-helpers.js";

// A three-step choreography (a → b → c), and d, which hears about exceeded budgets.
const app = tempApp({
  "functions/a.ts": fnSource(
    "a",
    { type: ["order.placed"] },
    `ctx.log.info("a ran"); await ctx.emit({ type: "stock.reserved", data: event.data });`,
  ),
  "functions/b.ts": fnSource(
    "b",
    { type: ["stock.reserved"] },
    `ctx.log.warn("b ran", { traceparent: event.traceparent }); await ctx.emit({ type: "order.paid", data: event.data });`,
  ),
  "functions/c.ts": fnSource(
    "c",
    { type: ["order.paid"] },
    `ctx.log.info("c ran", { order: event.data.order });`,
    `memoryMb: 256`,
  ),
  "functions/d.ts": fnSource("d", { type: ["eddy.budget.exceeded"] }, `ctx.log.info("budget", event.data);`),
  "functions/wf.ts": workflowSource(
    "wf",
    "wf.traced",
    'await step.run("one", async () => 1); await step.sleep("nap", 0); return "ok";',
  ),
  "functions/hi.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "hi", triggers: [on.http("GET /hi", { public: true })] }, async () => ({ hi: 1 }));
`,
});

/** A stand-in OpenTelemetry collector: records every OTLP/HTTP JSON export it receives. */
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes: { key: string; value: Record<string, unknown> }[];
}
const received: OtlpSpan[] = [];
let collector: Server;
let eddy: RunningEddy;
let url: string;

beforeAll(async () => {
  collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (req.url === "/v1/traces") {
        const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
        for (const rs of doc.resourceSpans) for (const ss of rs.scopeSpans) received.push(...ss.spans);
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  eddy = await startTestEddy(app.dir, {
    otlpEndpoint: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
    metering: { budgets: [{ function: "c", limit: 0, period: "day" }], checkIntervalMs: 200 },
    // Successful requests are recorded (and their spans exported) only when asked.
    gateway: { recordSync: true },
  });
  url = eddy.url;
});
afterAll(async () => {
  await eddy?.close();
  await new Promise((r) => collector?.close(r));
  app.cleanup();
});

const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

interface Node {
  kind: string;
  name: string;
  spanId: string;
  parentSpanId?: string;
  status?: string;
  children: Node[];
}

describe("one event through a three-function choreography", () => {
  beforeAll(async () => {
    const res = await post(
      `${url}/v1/events`,
      { specversion: "1.0", id: "trace-1", source: "/obs", type: "order.placed", data: { order: "o-1" } },
      { "content-type": "application/cloudevents+json", traceparent: `00-${TRACE}-${PARENT}-01` },
    );
    expect(res.status).toBe(202);
    await waitFor(async () => (await invocations(url, "c")).length === 1, "c to run");
  });

  it("is one trace in the built-in view, continuing the caller's traceparent", async () => {
    const found = await fetch(`${url}/v1/traces?eventId=trace-1`, { redirect: "manual" });
    expect(found.status).toBe(303);
    expect(found.headers.get("location")).toBe(`/v1/traces/${TRACE}`);
    const view = await getJson<{ traceId: string; events: number; invocations: number; roots: Node[] }>(
      `${url}/v1/traces/${TRACE}`,
    );
    expect(view).toMatchObject({ traceId: TRACE, events: 3, invocations: 3 });
    const chain: string[] = [];
    let node: Node | undefined = view.roots[0];
    expect(view.roots).toHaveLength(1);
    expect(node!.parentSpanId).toBe(PARENT);
    while (node) {
      chain.push(`${node.kind}:${node.name}`);
      expect(node.children.length).toBeLessThanOrEqual(1);
      node = node.children[0];
    }
    expect(chain).toEqual([
      "event:order.placed",
      "invocation:a",
      "event:stock.reserved",
      "invocation:b",
      "event:order.paid",
      "invocation:c",
    ]);
  });

  it("gives each handler its attempt's span as the event's traceparent", async () => {
    const view = await getJson<{ roots: Node[] }>(`${url}/v1/traces/${TRACE}`);
    const b = view.roots[0]!.children[0]!.children[0]!.children[0]!;
    expect(`${b.kind}:${b.name}`).toBe("invocation:b");
    const [run] = await invocations(url, "b");
    expect(run!.logs[0]!.fields).toEqual({ traceparent: `00-${TRACE}-${b.spanId}-01` });
  });

  it("is exported over OTLP with the same ids and parents", async () => {
    const spans = await waitFor(() => {
      const mine = received.filter((s) => s.traceId === TRACE);
      return mine.filter((s) => s.name.startsWith("eddy.invoke")).length === 3 && mine;
    }, "the spans at the collector");
    const view = await getJson<{ roots: Node[] }>(`${url}/v1/traces/${TRACE}`);
    const flat: Node[] = [];
    const walk = (n: Node) => (flat.push(n), n.children.forEach(walk));
    view.roots.forEach(walk);
    for (const n of flat) {
      const s = spans.find((x) => x.spanId === n.spanId);
      expect(s, `span ${n.kind} ${n.name}`).toBeDefined();
      expect(s!.parentSpanId).toBe(n.parentSpanId);
      expect(s!.name).toBe(n.kind === "event" ? `eddy.ingest ${n.name}` : `eddy.invoke ${n.name}`);
    }
    const invokeA = spans.find((s) => s.name === "eddy.invoke a")!;
    const attrs = Object.fromEntries(invokeA.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
    expect(attrs).toMatchObject({
      "faas.name": "a",
      "faas.trigger": "pubsub",
      "eddy.attempt": 1,
      "eddy.status": "succeeded",
    });
    expect(typeof attrs["faas.coldstart"]).toBe("boolean");
    expect(spans.some((s) => s.name === "eddy.queue_wait a")).toBe(true);
  });

  it("exports each step of a workflow run as a span under the attempt that started the run", async () => {
    const trace = "5bf92f3577b34da6a3ce929d0e0e4737";
    const sent = await post(`${url}/v1/events`, {
      specversion: "1.0",
      id: "wf-traced-1",
      source: "/test",
      type: "wf.traced",
      traceparent: `00-${trace}-${PARENT}-01`,
    });
    expect(sent.status).toBe(202);
    const run = await waitForRun(url, "wf", "succeeded");
    const [start] = await invocations(url, "wf");
    expect(start!.trace?.traceId).toBe(trace);
    const steps = await waitFor(() => {
      const mine = received.filter((s) => s.traceId === trace && s.name.startsWith("eddy.step"));
      return mine.length === 2 && mine;
    }, "the steps' spans at the collector");
    expect(steps.map((s) => s.name).sort()).toEqual(["eddy.step run", "eddy.step sleep"]);
    for (const s of steps) {
      expect(s.parentSpanId).toBe(start!.trace!.spanId);
      const attrs = Object.fromEntries(s.attributes.map((a) => [a.key, Object.values(a.value)[0]]));
      expect(attrs).toMatchObject({ "faas.name": "wf", "eddy.run_id": run.id, "eddy.step.status": "done" });
    }
  });

  it("names an HTTP route's attempt as triggered by http", async () => {
    expect((await fetch(`${url}/hi`)).status).toBe(200);
    const span = await waitFor(
      () => received.find((s) => s.name === "eddy.invoke hi"),
      "the route's span at the collector",
    );
    const trigger = span.attributes.find((a) => a.key === "faas.trigger");
    expect(trigger?.value).toEqual({ stringValue: "http" });
  });

  it("has its logs by invocation and by function, filtered by level", async () => {
    const [c] = await invocations(url, "c");
    const logs = await getJson<{ logs: { msg: string; fields: unknown }[] }>(
      `${url}/v1/invocations/${c!.id}/logs`,
    );
    expect(logs.logs).toMatchObject([{ msg: "c ran", fields: { order: "o-1" } }]);
    const warn = await getJson<{ lines: { fn: string; msg: string }[] }>(
      `${url}/v1/logs?level=warn&since=1h`,
    );
    expect(warn.lines.map((l) => `${l.fn}:${l.msg}`)).toEqual(["b:b ran"]);
  });
});

describe("metrics", () => {
  it("exposes Prometheus text that a real exposition parser reads", async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    // The parser throws on any line that is not valid exposition format.
    const families = parsePrometheus(text);
    const family = (name: string) => families.find((f) => f.name === name);
    const invoked = family("eddy_invocations_total")!;
    expect(invoked.type).toBe("COUNTER");
    const aOk = invoked.metrics.find((m) => m.labels?.function === "a" && m.labels.status === "succeeded");
    expect(Number(aOk?.value)).toBeGreaterThanOrEqual(1);
    expect(
      Number(
        family("eddy_events_ingested_total")!.metrics.find((m) => m.labels?.type === "order.placed")?.value,
      ),
    ).toBe(1);
    const duration = family("eddy_invocation_duration_seconds")!;
    expect(duration.type).toBe("HISTOGRAM");
    expect(duration.metrics[0]!.buckets!["+Inf"]).toBeDefined();
    // parse-prometheus-text-format folds the label sets of a histogram into one sample, so the
    // per-function count is read from its own (already validated) line.
    expect(text).toMatch(/^eddy_invocation_duration_seconds_count\{function="c"\} 1$/m);
    for (const name of [
      "eddy_queue_wait_seconds",
      "eddy_in_flight",
      "eddy_sandboxes_warm",
      "eddy_backlog",
      "eddy_dead_letters",
      "eddy_events_refused_total",
      "eddy_retries_total",
      "eddy_cold_starts_total",
    ]) {
      expect(family(name), name).toBeDefined();
    }
  });
});

describe("usage and budgets", () => {
  it("meters billed duration × memory, matching the records", async () => {
    const usage = await getJson<{
      pricing: { perGbSecond: number; perMillionRequests: number };
      functions: { fn: string; invocations: number; billedMs: number; gbSeconds: number; cost: number }[];
    }>(`${url}/v1/usage?since=1h`);
    const [rec] = await invocations(url, "c");
    const c = usage.functions.find((f) => f.fn === "c")!;
    const billed = Math.max(1, Math.ceil((rec as unknown as { durationMs: number }).durationMs));
    expect(c).toMatchObject({ invocations: 1, billedMs: billed });
    expect(c.gbSeconds).toBeCloseTo((billed / 1000) * (256 / 1024), 9);
    expect(c.cost).toBeCloseTo(
      c.gbSeconds * usage.pricing.perGbSecond + usage.pricing.perMillionRequests / 1e6,
      12,
    );
  });

  it("publishes eddy.budget.exceeded once when a budget is crossed", async () => {
    const [run] = await waitFor(async () => {
      const l = await invocations(url, "d");
      return l.length > 0 && l;
    }, "the budget event");
    expect(run!.logs[0]!.fields).toMatchObject({ function: "c", limit: 0, currency: "USD", period: "day" });
    // The watcher checks every 200 ms and publishes again while the budget stays crossed: wait for
    // two repeats to be stored as duplicates, and for d to have nothing queued, before counting its runs.
    const duplicates = async () =>
      Number(
        /^eddy_events_duplicate_total (\d+)$/m.exec(await (await fetch(`${url}/metrics`)).text())?.[1] ?? 0,
      );
    const seen = await duplicates();
    await waitFor(async () => (await duplicates()) >= seen + 2, "two repeats of the budget event");
    await waitFor(() => drained(url, "d"), "d drained");
    expect(await invocations(url, "d")).toHaveLength(1);
  });
});

describe("health", () => {
  it("answers /healthz and /readyz", async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await getJson<{ status: string; checks: { backend: string } }>(`${url}/readyz`);
    expect(ready).toMatchObject({ status: "ready", checks: { backend: "ok" } });
  });
});
