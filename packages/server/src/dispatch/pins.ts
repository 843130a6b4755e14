import type { KeyValue, KvWrite, LeasedDelivery, Settlement } from "../backends/types.js";

/**
 * The version a delivery started on: recorded when an attempt fails and the delivery waits for a
 * retry, so that its retries run that version (and its configuration: retries, timeout) even after
 * a deploy; removed when the delivery acks or is dead-lettered. `file` names its bundle with the
 * version (`<module>.<version>.mjs`), for a process that never ran it.
 */
export interface Pin {
  version: string;
  file: string;
}

/** The pins live in the key-value store, per function and delivery. */
const NS = "eddy:pin";

/**
 * How long past its retry's due time a pin is kept: a retry that comes later than that (its
 * function was undeployed meanwhile) runs on the version running then. The bound on how long an
 * old version is held for pinned work (bundles themselves are content-addressed and kept).
 */
export const PIN_GRACE_MS = 24 * 3_600_000;

function pinKey(fn: string, deliveryId: string): string {
  return `${fn}/${deliveryId}`;
}

/** Only a delivery leased before (a retry, or a lease that ended with its node) may have a pin. */
export function mayBePinned(d: LeasedDelivery): boolean {
  return d.attempt > 1;
}

/** The pin of `d` for function `fn`, if its earlier attempt recorded one. */
export async function readPin(kv: KeyValue, fn: string, d: LeasedDelivery): Promise<Pin | undefined> {
  if (!mayBePinned(d)) return undefined;
  const v = (await kv.get(NS, pinKey(fn, d.id)))?.value as Partial<Pin> | undefined;
  return typeof v?.version === "string" && typeof v.file === "string"
    ? { version: v.version, file: v.file }
    : undefined;
}

/**
 * The key-value writes that keep `d`'s pin in step with its settle, made in the settle's own
 * durable write: a retry pins the version the attempt ran on; the end of the delivery (ack or dead
 * letter) drops the pin it may have. A first attempt that acks writes nothing.
 */
export function pinWrites(
  target: { name: string; version: string; file: string },
  d: LeasedDelivery,
  settlement: Settlement,
  now = Date.now(),
): KvWrite[] {
  const key = pinKey(target.name, d.id);
  if (settlement.kind === "retry") {
    const pin: Pin = { version: target.version, file: target.file };
    return [{ ns: NS, key, value: pin, ttlMs: Math.max(0, settlement.dueAt - now) + PIN_GRACE_MS }];
  }
  return mayBePinned(d) ? [{ ns: NS, key, value: undefined }] : [];
}
