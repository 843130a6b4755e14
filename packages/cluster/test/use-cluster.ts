// Makes the server's engine tests run on the cluster backend. A test file imports this first, then
// the server's test file: hooks run in reverse order of registration, so the prefixes are dropped
// after that file's Eddy has closed.
import { afterAll, beforeAll } from "vitest";
import { openClusterBackend } from "@eddy/cluster";
import { useTestBackend } from "../../server/test/helpers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const prefixes: string[] = [];
beforeAll(requireServices);
afterAll(async () => {
  for (const p of prefixes) await dropPrefix(p);
});
useTestBackend(() => {
  const prefix = uniquePrefix("engine");
  prefixes.push(prefix);
  return openClusterBackend({ nats: NATS_URL, postgres: POSTGRES_URL, prefix, poolSize: 4 });
});
