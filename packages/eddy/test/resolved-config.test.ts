import { describe, expect, it } from "vitest";
import type { FunctionConfig, ResolvedFunctionConfig } from "eddy";
import { InvalidFunctionConfigError, on } from "eddy";
import { checkResolvedConfig, resolveFunctionConfig } from "eddy/internal";

// Configurations as users write them: every option, so that each one resolves back to itself.
const valid: FunctionConfig[] = [
  { triggers: [] },
  {
    name: "send-receipt",
    description: "sends receipts",
    triggers: [
      on.event({ type: ["order.paid"], data: { total: [{ numeric: [">", 100] }] } }),
      on.schedule("*/5 * * * *", { tz: "Europe/Paris", missed: "runOnce" }),
    ],
    retries: {
      maxAttempts: 5,
      backoff: { initial: "1.5s", factor: 3, max: "10m", jitter: "equal" },
      maxEventAge: "1h",
    },
    concurrency: {
      max: 20,
      key: "event.data.customerId",
      perKey: 2,
      min: 1,
      idleTimeout: "5m",
      perSandbox: 4,
    },
    timeout: "2s",
    memoryMb: 256,
    emits: ["receipt.sent"],
    sends: ["jobs"],
    idempotencyKey: "event.data.orderId",
    throttle: { limit: 5, period: "1s", burst: 2, key: "event.subject" },
    rateLimit: { limit: 100, period: "1m", key: "event.source" },
    debounce: { period: "2s", key: "event.data.id" },
    priority: { run: "event.data.priority" },
    cancelOn: [{ event: "order.cancelled", match: "data.orderId" }],
    isolation: "process",
  },
  { triggers: [on.queue("jobs.fifo", { batchSize: 10, batchWindow: "1s" })] },
  { triggers: [on.queue("jobs")], batch: { maxSize: 50, timeout: "2s", key: "event.data.k" } },
  { triggers: [on.event({ type: ["a"] })], debounce: { period: "1s", maxWait: "10s" } },
  {
    triggers: [
      on.http("GET /orders/:id", {
        public: true,
        cors: { origins: ["https://shop.example"], credentials: true, maxAge: "10m", headers: ["x-a"] },
        cache: { ttl: "30s", headers: ["Accept-Language"], query: ["page"] },
        rateLimit: { limit: 10, period: "1s", burst: 5, by: "ip" },
        timeout: "3s",
        maxBody: "2mb",
        summary: "an order",
        description: "one order by id",
        scopes: ["orders:read"],
      }),
      on.http("POST /reports", {
        mode: "async",
        callback: true,
        schema: { body: { type: "object", required: ["month"] } },
      }),
    ],
  },
  { triggers: [on.event({ type: ["x"] })], compat: "aws" },
];

describe("checkResolvedConfig", () => {
  it.each(valid.map((c, i) => [i, c] as const))("accepts what defineFunction resolves (%i)", (_i, config) => {
    const resolved = resolveFunctionConfig(config);
    // As it crosses the sandbox boundary (structured clone).
    expect(checkResolvedConfig(structuredClone(resolved))).toEqual(resolved);
  });

  // A module may change anything: the rows below write whatever they like.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Loose = Record<string, any>;
  const base = () => resolveFunctionConfig(valid[1]!) as unknown as Loose;
  it.each<[string, string, (c: Loose) => void]>([
    ["a negative memoryMb", "memoryMb", (c) => (c.memoryMb = -5)],
    ["a timeout of 0", "timeout", (c) => (c.timeoutMs = 0)],
    ["an unknown isolation", "isolation", (c) => (c.isolation = "none")],
    ["concurrency.max of 1e9", "concurrency.max", (c) => (c.concurrency.max = 1e9)],
    ["concurrency.min above max", "concurrency.min", (c) => (c.concurrency.min = 99)],
    ["perSandbox of 0", "concurrency.perSandbox", (c) => (c.concurrency.perSandbox = 0)],
    ["a pattern that is not one", "triggers[0].type", (c) => (c.triggers[0].pattern = { type: "x" })],
    [
      "a route under /v1",
      "triggers[2].http.path",
      (c) => c.triggers.push({ kind: "http", method: "GET", path: "/v1/x", mode: "sync", public: true }),
    ],
    ["an unknown trigger", "triggers[2].kind", (c) => c.triggers.push({ kind: "ftp" })],
    [
      "an option defineFunction does not make",
      "retries.backoff.sneaky",
      (c) => (c.retries.backoff.sneaky = 1),
    ],
    ["a backoff factor of 0", "retries.backoff.factor", (c) => (c.retries.backoff.factor = 0)],
    ["emits that are not names", "emits", (c) => (c.emits = [1])],
    ["a send to a bad queue name", "sends[0]", (c) => (c.sends = ["no way"])],
    ["a throttle of null", "throttle", (c) => (c.throttle = null)],
    ["a debounce without maxWait", "debounce.maxWait", (c) => delete c.debounce.maxWaitMs],
  ])("refuses %s, naming %s", (_what, path, change) => {
    const c = base();
    change(c);
    let err: unknown;
    try {
      checkResolvedConfig(c as ResolvedFunctionConfig);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidFunctionConfigError);
    expect((err as InvalidFunctionConfigError).path).toBe(path);
  });

  it("refuses what is not an object", () => {
    expect(() => checkResolvedConfig(null)).toThrow(InvalidFunctionConfigError);
    expect(() => checkResolvedConfig({ triggers: "all" })).toThrow(/triggers: must be an array/);
  });
});
