import { describe, expect, it } from "vitest";
import {
  defineFunction,
  InvalidFunctionConfigError,
  InvalidPatternError,
  isNonRetriableError,
  isRetryAfterError,
  NonRetriableError,
  on,
  RetryAfterError,
} from "eddy";
import { isEddyFunction, parseDuration } from "eddy/internal";

describe("defineFunction", () => {
  it("fills in the defaults", () => {
    const fn = defineFunction({ triggers: [on.event({ type: ["a"] })] }, () => undefined);
    expect(isEddyFunction(fn)).toBe(true);
    expect(fn.config).toMatchObject({
      retries: { maxAttempts: 3, backoff: { initialMs: 1000, factor: 2, maxMs: 300_000, jitter: "full" } },
      timeoutMs: 30_000,
      memoryMb: 128,
      concurrency: { max: 10 },
    });
  });

  it.each([
    [{ name: "bad name!" }, "name"],
    [{ retries: { maxAttempts: 0 } }, "retries.maxAttempts"],
    [{ retries: { backoff: { initial: "soon" } } }, "retries.backoff.initial"],
    [{ retries: { backoff: { jitter: "some" } } }, "retries.backoff.jitter"],
    [{ timeout: -1 }, "timeout"],
    [{ memoryMb: 1.5 }, "memoryMb"],
    [{ concurrency: { max: 0 } }, "concurrency.max"],
    [{ concurrency: { max: 2, min: 3 } }, "concurrency.min"],
    [{ concurrency: { idleTimeout: "a while" } }, "concurrency.idleTimeout"],
    [{ isolation: "vm" }, "isolation"],
    [{ compat: "gcp" }, "compat"],
    [{ emits: "order.paid" }, "emits"],
    [{ emits: [""] }, "emits[0]"],
    [{ emits: Array.from({ length: 101 }, (_, i) => `t${i}`) }, "emits"],
    [{ sends: ["ok", "not a queue!"] }, "sends[1]"],
    [{ sends: [3] }, "sends"],
  ])("refuses %j naming %s", (bad, path) => {
    const make = () => defineFunction({ triggers: [], ...(bad as object) }, () => undefined);
    expect(make).toThrow(InvalidFunctionConfigError);
    try {
      make();
    } catch (err) {
      expect((err as InvalidFunctionConfigError).path).toBe(path);
      expect((err as Error).message.startsWith(`${path}: `)).toBe(true);
    }
  });

  it("keeps the event types it emits and the queues it sends to, for the choreography map", () => {
    const fn = defineFunction(
      { triggers: [], emits: ["order.paid"], sends: ["jobs", "audit.fifo"] },
      () => undefined,
    );
    expect([fn.config.emits, fn.config.sends]).toEqual([["order.paid"], ["jobs", "audit.fifo"]]);
    expect(defineFunction({ triggers: [] }, () => undefined).config.sends).toEqual([]);
  });

  it("says what it got", () => {
    expect(() => defineFunction({ triggers: [], retries: { maxAttempts: 0 } }, () => 1)).toThrow(
      "retries.maxAttempts: must be an integer from 1 to 1000, got 0",
    );
  });

  it("resolves the runtime options: sandbox kind, warm pool, compatibility", () => {
    const fn = defineFunction(
      { triggers: [], isolation: "process", concurrency: { max: 4, min: 1, idleTimeout: "5m" } },
      () => 1,
    );
    expect(fn.config).toMatchObject({
      isolation: "process",
      concurrency: { max: 4, min: 1, idleTimeoutMs: 300_000 },
    });
    expect(defineFunction({ triggers: [] }, () => 1).config).toMatchObject({
      isolation: "thread",
      concurrency: { min: 0 },
    });
    expect(() => defineFunction({ triggers: [], concurrency: { max: 2, min: 3 } }, () => 1)).toThrow(
      "concurrency.min: must be an integer from 0 to 2, got 3",
    );
  });

  it("checks patterns when the trigger is made", () => {
    expect(() => on.event({ type: "order.paid" } as never)).toThrow(InvalidPatternError);
  });
});

describe("errors cross realms by brand", () => {
  it("recognises NonRetriableError and RetryAfterError without instanceof", () => {
    const copy = (e: Error) => Object.assign(Object.create(Error.prototype) as object, e);
    expect(isNonRetriableError(new NonRetriableError("x"))).toBe(true);
    expect(isNonRetriableError(new Error("x"))).toBe(false);
    const later = new RetryAfterError("x", "2s");
    expect(isRetryAfterError(later)).toBe(true);
    expect(later.retryAfterMs).toBe(2000);
    // A structurally copied error (as another realm would make) keeps no brand: only the real class has it.
    expect(isRetryAfterError(copy(later))).toBe(false);
  });
});

describe("parseDuration", () => {
  it.each([
    [250, 250],
    ["250ms", 250],
    ["1.5s", 1500],
    ["10m", 600_000],
    ["1h", 3_600_000],
    ["1d", 86_400_000],
  ])("%j → %d", (v, ms) => expect(parseDuration(v, "x")).toBe(ms));

  it("names the option on bad input", () => {
    expect(() => parseDuration("5 minutes", "timeout")).toThrow(/^timeout must be a duration/);
  });
});

describe("on.http", () => {
  it("parses the route and the options", () => {
    const t = on.http("get /orders/:id", {
      public: true,
      cache: { ttl: "30s", headers: ["Accept-Language"] },
      rateLimit: { limit: 10, period: "1s" },
      cors: true,
      maxBody: "2kb",
    });
    expect(t).toEqual({
      kind: "http",
      method: "GET",
      path: "/orders/:id",
      mode: "sync",
      public: true,
      cache: { ttlMs: 30_000, headers: ["accept-language"] },
      rateLimit: { limit: 10, periodMs: 1000, burst: 0, by: "key" },
      cors: { origins: ["*"], credentials: false },
      maxBodyBytes: 2048,
    });
    expect(on.http("POST /files/*", { mode: "async", callback: true }).mode).toBe("async");
  });

  it.each([
    ["FETCH /x", {}, "http.method"],
    ["GET", {}, "http.method"],
    ["GET x", {}, "http.path"],
    ["GET /a//b", {}, "http.path"],
    ["GET /a/*/b", {}, "http.path"],
    ["GET /a/:id/:id", {}, "http.path"],
    ["GET /v1/orders", {}, "http.path"],
    ["GET /healthz", {}, "http.path"],
    ["GET /x", { mode: "later" }, "http.mode"],
    ["POST /x", { cache: { ttl: "1s" } }, "http.cache"],
    ["GET /x", { cache: { ttl: "soon" } }, "http.cache.ttl"],
    ["GET /x", { rateLimit: { limit: 0, period: "1s" } }, "http.rateLimit.limit"],
    ["GET /x", { maxBody: "lots" }, "http.maxBody"],
    ["GET /x", { schema: { body: [] } }, "http.schema.body"],
    ["GET /x", { schema: { headers: {} } }, "http.schema.headers"],
    ["GET /x", { cors: { origins: ["example.com"] } }, "http.cors.origins"],
    ["GET /x", { callback: true }, "http.callback"],
  ])("refuses %s %j naming %s", (route, options, path) => {
    try {
      on.http(route, options as never);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(InvalidFunctionConfigError);
      expect((err as InvalidFunctionConfigError).path).toBe(path);
    }
  });

  it("gives HTTP functions only HTTP triggers", () => {
    const fn = defineFunction({ triggers: [on.http("GET /a")] }, (request, ctx) => ({
      url: request.url,
      id: ctx.params.id,
    }));
    expect(fn.config.triggers[0]!.kind).toBe("http");
    // HTTP functions serve several requests per sandbox by default; event functions one.
    expect(fn.config.concurrency.perSandbox).toBe(16);
    expect(defineFunction({ triggers: [] }, () => 1).config.concurrency.perSandbox).toBeUndefined();
    expect(() => defineFunction({ triggers: [], concurrency: { perSandbox: 0 } }, () => 1)).toThrow(
      "concurrency.perSandbox: must be an integer from 1 to 1000, got 0",
    );
    expect(() =>
      defineFunction({ triggers: [on.http("GET /a"), on.event({ type: ["x"] })] }, () => undefined),
    ).toThrow("triggers: an HTTP function (on.http) gets a Request");
    expect(() =>
      defineFunction({ triggers: [on.http("GET /a")], batch: { maxSize: 2, timeout: "1s" } }, () => 1),
    ).toThrow("batch: does not apply");
  });
});

describe("uuidv7", () => {
  it("is a version 7 UUID, sorted by time, and unique", async () => {
    const { uuidv7 } = await import("eddy/internal");
    const ids = Array.from({ length: 1000 }, (_, i) => uuidv7(1_700_000_000_000 + i));
    for (const id of ids)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(uuidv7(0x0123456789ab).startsWith("01234567-89ab-7")).toBe(true);
  });
});
