import type { Engine, InvocationRecord } from "@eddy/server";

/**
 * `eddy dev`: one line per attempt as it ends, so that what the functions do is visible in the
 * terminal: function, event, status and duration; a failure with its error and what happens
 * next (the retry and when, or the dead-letter queue). Returns the unsubscribe.
 *
 * @example
 * //   ✓ send-receipt ← order.paid 7f3a 4 ms
 * //   ✗ charge-payment ← order.placed o-1 #1 3 ms  Error: card declined → retry 2/3 in 1.2 s
 */
export function printInvocations(engine: Engine, write: (line: string) => void): () => void {
  return engine.observer.follow((rec, retryAt) => {
    const event = `${rec.fn} ← ${rec.eventType} ${rec.eventId}`;
    const attempt = rec.attempt > 1 || rec.status === "failed" ? ` #${rec.attempt}` : "";
    const took = `${Math.round(rec.durationMs)} ms`;
    if (rec.status === "skipped") {
      write(`  – ${event} skipped${rec.skipReason ? `: ${rec.skipReason}` : ""}\n`);
      return;
    }
    if (rec.status === "succeeded") {
      write(`  ✓ ${event}${attempt} ${took}${rec.coldStart ? " (cold)" : ""}\n`);
      return;
    }
    const error = rec.error ? `  ${rec.error.name}: ${firstLine(rec.error.message)}` : "";
    write(`  ✗ ${event}${attempt} ${took}${error} ${next(rec, engine, retryAt)}\n`);
  });
}

/** What follows a failed attempt, compactly. */
function next(rec: InvocationRecord, engine: Engine, retryAt: number | undefined): string {
  if (rec.outcome === "dead") return `→ dead-lettered (eddy dlq ls ${rec.fn})`;
  if (rec.outcome === "ack") return "→ done";
  const max = engine.function(rec.fn)?.config.retries.maxAttempts;
  const of = max === undefined ? `${rec.attempt + 1}` : `${rec.attempt + 1}/${max}`;
  const wait = retryAt === undefined ? "" : ` in ${Math.max(0, (retryAt - Date.now()) / 1000).toFixed(1)} s`;
  return `→ retry ${of}${wait}`;
}

/** Long messages stay on one line, within reason. */
function firstLine(message: string): string {
  const line = message.split("\n", 1)[0]!;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
