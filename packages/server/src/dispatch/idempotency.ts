import type { KeyValue, KvWrite } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";

/** The outcome of claiming an idempotency key before an attempt. */
export type Claim =
  { kind: "run"; done: KvWrite; release: KvWrite } | { kind: "done" } | { kind: "busy"; retryAt: number };

interface ClaimValue {
  state: "running" | "done";
  delivery: string;
}

/**
 * At most one successful run per idempotency key and window. Before an attempt the key is claimed
 * with compare-and-set ("running", held as long as the attempt's lease); the successful settle
 * turns it into "done" for the window in the same write as the ack; a failed one deletes it. A
 * later delivery with a "done" key is skipped; one that finds it "running" under another delivery
 * waits for that claim to end. A crash leaves a "running" claim that expires with its lease.
 */
export async function claimIdempotencyKey(
  kv: KeyValue,
  fn: string,
  key: string,
  deliveryId: string,
  leaseUntil: number,
  windowMs: number,
  clock: Clock,
): Promise<Claim> {
  const ns = `idempotency:${fn}`;
  const running: ClaimValue = { state: "running", delivery: deliveryId };
  const ttlMs = Math.max(1, leaseUntil - clock.now());
  for (let tries = 0; tries < 3; tries++) {
    const current = await kv.get(ns, key);
    if (current) {
      const v = current.value as ClaimValue;
      if (v.state === "done") return { kind: "done" };
      // Our own claim from an attempt that crashed: take it over.
      if (v.delivery !== deliveryId)
        return { kind: "busy", retryAt: current.expiresAt ?? clock.now() + 1_000 };
    }
    const version = await kv.set(ns, key, running, { ttlMs, ifVersion: current?.version ?? 0 });
    if (version !== undefined) {
      return {
        kind: "run",
        done: {
          ns,
          key,
          value: { state: "done", delivery: deliveryId } satisfies ClaimValue,
          ttlMs: windowMs,
        },
        release: { ns, key, value: undefined },
      };
    }
  }
  return { kind: "busy", retryAt: clock.now() + 100 };
}
