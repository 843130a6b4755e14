// What a function gets besides the event: ctx.kv, ctx.env, ctx.invocation, ctx.signal; and what a
// process sandbox may not do.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { openEmbeddedBackend } from "@eddy/server";
import { fnSource, getJson, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const SECRET = "s3cr3t-token-value";

const app = tempApp({
  "functions/counter.ts": fnSource(
    "counter",
    { type: ["count"] },
    `const n = await ctx.kv.update("n", (v) => (v ?? 0) + 1);
     const first = await ctx.kv.set("first:" + event.id, true, { ifVersion: 0 });
     const again = (await ctx.kv.set("first:" + event.id, true, { ifVersion: 0 })) ?? null;
     await ctx.kv.set("short:" + event.id, 1, { ttl: "50ms" });
     await new Promise((r) => setTimeout(r, 80));
     ctx.log.info("kv", { n, first, again, short: (await ctx.kv.get("short:" + event.id)) ?? null });`,
  ),
  "functions/other.ts": fnSource(
    "other",
    { type: ["count"] },
    `ctx.log.info("other", { n: (await ctx.kv.get("n")) ?? null });`,
  ),
  "functions/secrets.ts": fnSource(
    "secrets",
    { type: ["secret"] },
    `console.log("token is", ctx.env.API_TOKEN);
     ctx.log.info("info", { length: ctx.env.API_TOKEN.length, invocation: ctx.invocation });
     throw new Error("failed with " + ctx.env.API_TOKEN);`,
    `retries: { maxAttempts: 1 }`,
  ),
  "functions/locked-out.ts": fnSource(
    "locked-out",
    { type: ["probe"] },
    `const tryIt = async (f) => { try { await f(); return "allowed"; } catch (e) { return e.code ?? e.message; } };
     const fs = await import("node:fs");
     const cp = await import("node:child_process");
     const wt = await import("node:worker_threads");
     ctx.log.info("probe", {
       readFile: await tryIt(() => fs.readFileSync("/etc/hostname")),
       writeFile: await tryIt(() => fs.writeFileSync("/tmp/eddy-escape", "x")),
       spawn: await tryIt(() => cp.execSync("true")),
       worker: await tryIt(() => new wt.Worker("1", { eval: true }).terminate()),
       env: Object.keys(process.env),
     });`,
    `isolation: "process"`,
  ),
});
let eddy: RunningEddy;
const dataDir = join(app.dir, "data");

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { env: { API_TOKEN: SECRET, SHORT: "1" }, dataDir });
  expect(eddy.failures).toEqual([]);
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function send(type: string, id: string) {
  expect((await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type })).status).toBe(
    202,
  );
}

async function lastRun(fn: string, eventId: string) {
  return waitFor(
    async () => (await invocations(eddy.url, fn)).find((i) => i.eventId === eventId && i.outcome !== "retry"),
    `${fn} to run ${eventId}`,
  );
}

describe("ctx.kv", () => {
  it("keeps durable per-function state with compare-and-set and TTL", async () => {
    await send("count", "c1");
    await send("count", "c2");
    const first = await lastRun("counter", "c1");
    const second = await lastRun("counter", "c2");
    const fields = [first, second].map((i) => i.logs[0]!.fields as Record<string, unknown>);
    expect(fields.map((f) => f.n).sort()).toEqual([1, 2]);
    for (const f of fields) expect(f).toMatchObject({ first: 1, again: null, short: null });
    // Another function has its own namespace.
    expect((await lastRun("other", "c1")).logs[0]!.fields).toEqual({ n: null });
    expect((await eddy.engine.backend.kv.get("fn:counter", "n"))?.value).toBe(2);
  });
});

describe("ctx.env", () => {
  it("reaches the function and is masked in its logs and errors", async () => {
    await send("secret", "s1");
    const inv = await lastRun("secrets", "s1");
    expect(inv.logs[0]!.msg).toBe("token is [redacted]");
    expect(inv.logs[1]!.fields).toMatchObject({ length: SECRET.length, invocation: { attempt: 1 } });
    expect(inv.error!.message).toBe("failed with [redacted]");
    expect(JSON.stringify(inv)).not.toContain(SECRET);
    const fn = await getJson<{ version: string }>(`${eddy.url}/v1/functions/secrets`);
    expect((inv.logs[1]!.fields as { invocation: { version: string } }).invocation.version).toBe(fn.version);
  });
});

describe("process sandboxes", () => {
  it("may not read or write files, spawn processes or start workers, and see no environment", async () => {
    await send("probe", "p1");
    const inv = await lastRun("locked-out", "p1");
    expect(inv.error).toBeUndefined();
    expect(inv.logs[0]!.fields).toEqual({
      readFile: "ERR_ACCESS_DENIED",
      writeFile: "ERR_ACCESS_DENIED",
      spawn: "ERR_ACCESS_DENIED",
      worker: "ERR_ACCESS_DENIED",
      env: [],
    });
  });
});

describe("ctx.signal", () => {
  it("is aborted at shutdown, and the attempt still settles before the store closes", async () => {
    const waiting = tempApp({
      "functions/waits.ts": fnSource(
        "waits",
        { type: ["wait"] },
        `ctx.log.info("started");
         await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve));
         ctx.log.info("aborted", { reason: String(ctx.signal.reason) });`,
        `timeout: "20s"`,
      ),
    });
    const dir = join(waiting.dir, "data");
    try {
      const server = await startTestEddy(waiting.dir, { dataDir: dir });
      await post(`${server.url}/v1/events`, { specversion: "1.0", id: "w1", source: "/t", type: "wait" });
      await waitFor(() => server.engine.function("waits")!.inFlight === 1, "the attempt to start");
      const t0 = Date.now();
      await server.close();
      expect(Date.now() - t0).toBeLessThan(10_000);
      const backend = openEmbeddedBackend({ path: join(dir, "eddy.db") });
      const [inv] = await backend.records.queryInvocations({ fn: "waits", limit: 1 });
      await backend.close();
      expect(inv).toMatchObject({ status: "succeeded", outcome: "ack" });
      expect(inv!.logs[1]).toMatchObject({
        msg: "aborted",
        fields: { reason: expect.stringContaining("shutting down") },
      });
    } finally {
      waiting.cleanup();
    }
  });
});
