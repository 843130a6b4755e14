import { afterAll, beforeAll } from "vitest";
import type { Backend } from "@eddy/server";
import { describeBackendContract } from "@eddy/server/contract";
import { openClusterBackend } from "@eddy/cluster";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const prefixes = new WeakMap<Backend, string>();
const created: string[] = [];
let nodes = 0;
const open = (prefix: string) =>
  openClusterBackend({
    nats: NATS_URL,
    postgres: POSTGRES_URL,
    prefix,
    poolSize: 4,
    nodeId: `node-${++nodes}`,
  });

beforeAll(requireServices);
afterAll(async () => {
  for (const p of created) await dropPrefix(p);
});

describeBackendContract("cluster", {
  capabilities: ["wakeups", "bundles", "broadcast"],
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
  async peer(b) {
    const prefix = prefixes.get(b)!;
    const other = await open(prefix);
    prefixes.set(other, prefix);
    return other;
  },
});
