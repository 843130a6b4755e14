// What storing traces costs the embedded store: the same batches of events appended, leased and
// acked with their attempt records, with and without trace ids, on the real SQLite file (WAL,
// fsync on every commit). No HTTP, no sandboxes: the storage part of the instrumentation cost.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openEmbeddedBackend } from "@eddy/server";
import { median } from "./machine.js";

const WINDOW = { dedupWindowMs: 60_000 };

/**
 * The variants:
 * - off: no trace ids.
 * - on: what Eddy stores (ids that increase within a node; each record linked to its event).
 * - secondIds: trace ids that begin with the epoch second, then random bits (before 2026-11-30):
 *   each index insert lands on a random page of the last second's entries.
 * - unlinked: records that carry their own trace id and parent span (before 2026-11-30), as an
 *   attempt whose parent is not its event's span is still stored.
 */
const VARIANTS = {
  off: {},
  on: { ids: "ms" },
  secondIds: { ids: "second" },
  unlinked: { ids: "ms", unlinked: true },
};

/** Median CPU and wall µs per event of each variant, over `rounds` alternating rounds. */
export async function traceStorage({ batches = 60, batchSize = 500, rounds = 3 } = {}) {
  const runs = Object.fromEntries(Object.keys(VARIANTS).map((v) => [v, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, variant] of Object.entries(VARIANTS))
      runs[name].push(await run(variant, batches, batchSize));
  }
  const out = {};
  for (const [v, rs] of Object.entries(runs)) {
    out[v] = {
      cpuMicrosPerEvent: round2(median(rs.map((x) => x.cpu))),
      wallMicrosPerEvent: round2(median(rs.map((x) => x.wall))),
    };
  }
  return { batches, batchSize, rounds, ...out };
}

async function run(variant, batches, batchSize) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-trace-storage-"));
  const backend = openEmbeddedBackend({ path: join(dir, "eddy.db") });
  let sequence = 0;
  let cpu = 0;
  let wall = 0;
  const warmup = Math.min(5, Math.floor(batches / 4));
  try {
    for (let b = 0; b < batches; b++) {
      const entries = Array.from({ length: batchSize }, (_, i) => {
        const id = `e-${b}-${i}`;
        const event = { specversion: "1.0", id, source: "/bench", type: "bench.noop", data: {} };
        const entry = { event, dedupKey: `/bench\u0000${id}`, deliveries: [{ fn: "noop" }] };
        if (variant.ids) entry.trace = { traceId: traceId(variant.ids, ++sequence), spanId: hex(8) };
        return entry;
      });
      // Made before the clock starts, in every variant alike.
      const spans = Array.from({ length: 2 * batchSize }, () => hex(8));
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      await backend.log.append(entries, WINDOW);
      const leased = await backend.queue.lease("noop", batchSize, 30_000);
      await Promise.all(
        leased.map((d, i) =>
          backend.queue.settle(
            d,
            { kind: "ack" },
            { invocation: attempt(d, variant, spans[2 * i], spans[2 * i + 1]), ...WINDOW },
          ),
        ),
      );
      const c = process.cpuUsage(c0);
      if (b >= warmup) {
        cpu += c.user + c.system;
        wall += (performance.now() - w0) * 1000;
      }
    }
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const n = (batches - warmup) * batchSize;
  return { cpu: cpu / n, wall: wall / n };
}

/** The record of a successful attempt at `d`, its span a child of the event's as the engine makes it. */
function attempt(d, variant, spanId, otherSpanId) {
  const rec = {
    id: `inv-${d.id}`,
    fn: d.fn,
    version: "v1",
    deliveryId: d.id,
    eventId: d.event.id,
    eventSource: d.event.source,
    eventType: d.event.type,
    attempt: d.attempt,
    status: "succeeded",
    outcome: "ack",
    startedAt: Date.now(),
    durationMs: 0.3,
    logs: [],
    memoryMb: 128,
    billedMs: 1,
  };
  if (d.trace) {
    rec.trace = {
      traceId: d.trace.traceId,
      spanId,
      parentSpanId: variant.unlinked ? otherSpanId : d.trace.spanId,
    };
  }
  return rec;
}

/** A trace id as the engine makes it ("ms"), or as it made it before ("second"). */
function traceId(kind, sequence) {
  if (kind === "second")
    return (
      Math.floor(Date.now() / 1000)
        .toString(16)
        .padStart(8, "0") + hex(12)
    );
  return (
    Date.now().toString(16).padStart(12, "0") + (sequence & 0xffff).toString(16).padStart(4, "0") + hex(8)
  );
}

function hex(bytes) {
  return randomBytes(bytes).toString("hex");
}

function round2(v) {
  return Math.round(v * 100) / 100;
}
