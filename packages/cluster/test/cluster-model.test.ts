import { afterAll, beforeAll } from "vitest";
import { describeModelContract } from "@eddy/server/contract";
import { openClusterBackend } from "@eddy/cluster";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const created: string[] = [];
let nodes = 0;

beforeAll(requireServices);
afterAll(async () => {
  for (const p of created) await dropPrefix(p);
});

// On real time: every lease, retry and TTL of a run is far away, and what the interfaces leave
// open (the order a lease answers in, how counts split ready from leased) is not compared.
describeModelContract("cluster", {
  manualClock: false,
  exact: false,
  runs: 25,
  async create() {
    const prefix = uniquePrefix("model");
    created.push(prefix);
    return openClusterBackend({
      nats: NATS_URL,
      postgres: POSTGRES_URL,
      prefix,
      poolSize: 4,
      nodeId: `model-${++nodes}`,
    });
  },
});
