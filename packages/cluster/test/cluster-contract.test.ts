import { afterAll, beforeAll } from "vitest";
import type { Backend } from "@eddy/server";
import { describeBackendContract } from "@eddy/server/contract";
import { openClusterBackend } from "@eddy/cluster";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const prefixes = new WeakMap<Backend, string>();
const created: string[] = [];
const open = (prefix: string) =>
  openClusterBackend({ nats: NATS_URL, postgres: POSTGRES_URL, prefix, poolSize: 4 });

beforeAll(requireServices);
afterAll(async () => {
  for (const p of created) await dropPrefix(p);
});

describeBackendContract("cluster", {
  async create() {
    const prefix = uniquePrefix("contract");
    created.push(prefix);
    const b = await open(prefix);
    prefixes.set(b, prefix);
    return b;
  },
  async restart(b) {
    const prefix = prefixes.get(b)!;
    await b.close();
    const reopened = await open(prefix);
    prefixes.set(reopened, prefix);
    return reopened;
  },
  // Flow control that a JetStream work queue does not give as it stands; the cluster backend
  // refuses these options with a message instead of ignoring them (see docs/cluster.md).
  skip: {
    "limits leases per group and leaves ungrouped deliveries free": "per-key concurrency",
    "leases FIFO groups in order, one at a time, and a retry blocks its group": "FIFO groups",
    "dead-lettering the head of a FIFO group unblocks the group": "FIFO groups",
    "leases by priority, highest first": "priority",
    "leases a batch when it is full, or when its oldest has waited the window": "batches",
    "batches deliveries without a batch key together": "batches",
    "cancels queued deliveries by key, not leased ones": "cancellation keys",
    "shows leased and overdue deliveries": "the admin view of deliveries",
  },
});
