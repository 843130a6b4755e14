// A server without credentials (eddy dev, auth "none") over real HTTP: its /v1 API answers only
// requests for its own names (DNS rebinding) and not a browser page elsewhere (a cross-site
// text/plain POST, which needs no preflight, purging a queue).
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp } from "./helpers.js";

const app = tempApp({});
let dev: RunningEddy;
let listed: RunningEddy;
let open: RunningEddy;

beforeAll(async () => {
  dev = await startTestEddy(app.dir, { auth: "none" });
  listed = await startTestEddy(app.dir, {
    auth: "none",
    dataDir: `${app.dir}/.listed`,
    allowedHosts: ["dev.example.test"],
  });
  open = await startTestEddy(app.dir, { dataDir: `${app.dir}/.open` });
});
afterAll(async () => {
  for (const e of [dev, listed, open]) await e?.close();
  app.cleanup();
});

/** A raw request, so that Host and Origin are what the test says. */
function call(
  base: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} }));
    });
    req.on("error", reject);
    req.end(body);
  });
}
const port = (e: RunningEddy) => new URL(e.url).port;

describe("eddy dev's API checks Host and Origin", () => {
  it("refuses a Host that is not one of its names (DNS rebinding)", async () => {
    const res = await call(dev.url, "GET", "/v1/functions", { host: `rebind.attacker.test:${port(dev)}` });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "EDDY_HOST_NOT_ALLOWED" });
    expect(res.body.detail).toContain("--allowed-host");
  });

  it("answers its loopback names, with or without a port", async () => {
    for (const host of [
      `127.0.0.1:${port(dev)}`,
      `localhost:${port(dev)}`,
      `[::1]:${port(dev)}`,
      "localhost",
    ]) {
      expect((await call(dev.url, "GET", "/v1/functions", { host })).status, host).toBe(200);
    }
  });

  it("refuses a cross-site text/plain POST that would purge a queue", async () => {
    const headers = { host: `127.0.0.1:${port(dev)}`, "content-type": "text/plain" };
    expect((await call(dev.url, "PUT", "/v1/queues/jobs", { host: headers.host })).status).toBeLessThan(300);
    const res = await call(
      dev.url,
      "POST",
      "/v1/queues/jobs/purge",
      { ...headers, origin: "https://evil.test" },
      "x",
    );
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: "EDDY_HOST_NOT_ALLOWED" });
    const sandboxed = await call(
      dev.url,
      "POST",
      "/v1/queues/jobs/purge",
      { ...headers, origin: "null" },
      "x",
    );
    expect(sandboxed.status).toBe(403);
    // Its own pages may.
    const same = await call(dev.url, "POST", "/v1/queues/jobs/purge", {
      host: headers.host,
      origin: `http://localhost:${port(dev)}`,
    });
    expect(same.status).toBe(200);
  });

  it("answers the names given with allowedHosts", async () => {
    const res = await call(listed.url, "GET", "/v1/functions", { host: `dev.example.test:${port(listed)}` });
    expect(res.status).toBe(200);
  });

  it("leaves health checks and servers with credentials alone", async () => {
    expect((await call(dev.url, "GET", "/healthz", { host: "anything.test" })).status).toBe(200);
    expect((await call(open.url, "GET", "/v1/functions", { host: "anything.test" })).status).toBe(200);
  });
});
