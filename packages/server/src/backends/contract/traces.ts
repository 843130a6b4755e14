import { describe, expect } from "vitest";
import type { AppendEntry } from "../types.js";
import { parseTraceparent } from "../../observability/trace-context.js";
import type { ContractContext } from "./context.js";
import { entry, record, WINDOW } from "./fixtures.js";

/** An entry of event `id` from `source`, in trace `traceId`. */
function traced(id: string, source: string, traceId: string): AppendEntry {
  const e = entry(["t"]);
  return {
    ...e,
    event: { ...e.event, id, source },
    dedupKey: `${source}\u0000${id}`,
    trace: { traceId, spanId: traceId.slice(0, 16) },
  };
}

/** Contract of the tracing lookups: the events of a trace, and the trace of an event. */
export function describeTracesContract({ it, create }: ContractContext): void {
  describe("traces", () => {
    it("finds the events and attempts of a trace", async () => {
      const b = await create();
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const first = { ...entry(["t"]), trace: { traceId, spanId: "00f067aa0ba902b7" } };
      const other = { ...entry(["t"]), trace: { traceId: "a".repeat(32), spanId: "1".repeat(16) } };
      await b.log.append([first, other], WINDOW);
      const [d] = await b.queue.lease("t", 1, 5_000);
      // The delivery hands back the event's span: beside the event, or in it as its traceparent.
      expect(d!.trace ?? parseTraceparent(d!.event.traceparent)).toMatchObject({
        traceId,
        spanId: "00f067aa0ba902b7",
      });
      const rec = record(d!, {
        trace: { traceId, spanId: "b7ad6b7169203331", parentSpanId: "00f067aa0ba902b7" },
      });
      const emitted = {
        ...entry(["u"]),
        trace: { traceId, spanId: "c".repeat(16), parentSpanId: "b7ad6b7169203331" },
      };
      await b.queue.settle(d!, { kind: "ack" }, { invocation: rec, emit: [emitted], ...WINDOW });
      const events = await b.traces.byTrace(traceId, 10);
      expect(events.map((e) => [e.event.id, e.trace.spanId, e.trace.parentSpanId])).toEqual([
        [first.event.id, "00f067aa0ba902b7", undefined],
        [emitted.event.id, "c".repeat(16), "b7ad6b7169203331"],
      ]);
      expect(await b.traces.traceOf(emitted.event.id)).toBe(traceId);
      expect(await b.traces.traceOf(first.event.id, first.event.source)).toBe(traceId);
      expect(await b.traces.traceOf(first.event.id, "/another-source")).toBe(traceId); // falls back to the id
      expect(await b.traces.traceOf("no-such-event")).toBeUndefined();
      const attempts = await b.records.queryInvocations({ traceId, limit: 10 });
      expect(attempts.map((a) => a.trace)).toEqual([rec.trace]);
      expect((await b.records.getInvocation(rec.id))?.trace).toEqual(rec.trace);
      // An attempt stored without a delivery (an HTTP request's) is found by its trace id too.
      const direct = {
        ...rec,
        id: `direct-${rec.id}`,
        startedAt: rec.startedAt + 1,
        trace: { traceId, spanId: "d".repeat(16), parentSpanId: "c".repeat(16) },
      };
      await b.records.insert([direct]);
      const both = await b.records.queryInvocations({ traceId, limit: 10 });
      expect(both.map((a) => a.trace)).toEqual([direct.trace, rec.trace]);
    });

    it("finds the trace of an event by source and id, else the newest event with the id", async () => {
      const b = await create();
      const id = `shared-${process.pid}-${Date.now()}`;
      const [ta, tb] = ["a".repeat(32), "b".repeat(32)];
      // Two sources used one event id (ids are unique per source only); "/b" came second.
      await b.log.append([traced(id, "/a", ta)], WINDOW);
      await b.log.append([traced(id, "/b", tb)], WINDOW);
      expect(await b.traces.traceOf(id, "/a")).toBe(ta);
      expect(await b.traces.traceOf(id, "/b")).toBe(tb);
      expect(await b.traces.traceOf(id)).toBe(tb);
      expect(await b.traces.traceOf(id, "/c")).toBe(tb);
    });
  });
}
