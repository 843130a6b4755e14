// Async callbacks are not an SSRF: loopback in every spelling, private, link-local and metadata
// addresses are refused with the request; a name that resolves to one is refused when the callback
// is sent; redirects are not followed; an operator's allow list opens a block. Real local HTTP
// listeners stand for the internal services a callback must not reach.
import { lookup } from "node:dns/promises";
import { createServer } from "node:http";
import type { Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { hostname } from "node:os";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { createLogger } from "@eddy/server";
import { startTestEddy, tempApp, waitFor } from "./helpers.js";

const app = tempApp({
  "functions/report.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "report", triggers: [on.http("POST /reports", { mode: "async", public: true, callback: true })] },
  async () => ({ total: 42 }),
);`,
});

/** A listener on 127.0.0.1 that records the paths it is called at; `answer` picks the response. */
async function listener(answer: (res: ServerResponse) => void = (res) => res.end()) {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? "");
    req.resume();
    answer(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, hits, port: (server.address() as AddressInfo).port };
}

/** A logger whose warnings the test can wait for. */
function capturingLog() {
  const lines: { msg: string; url?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, log: createLogger({ level: "warn", destination }) };
}

const servers: Server[] = [];
const instances: RunningEddy[] = [];
afterAll(async () => {
  for (const e of instances) await e.close();
  for (const s of servers) s.close();
  app.cleanup();
});

async function start(options: Parameters<typeof startTestEddy>[1] = {}) {
  const eddy = await startTestEddy(app.dir, { dataDir: `${app.dir}/.eddy-${instances.length}`, ...options });
  instances.push(eddy);
  return eddy;
}
const ask = (eddy: RunningEddy, callback: string) =>
  fetch(`${eddy.url}/reports`, { method: "POST", headers: { "eddy-callback": callback } });

describe("async callbacks", () => {
  let eddy: RunningEddy;
  let target: Awaited<ReturnType<typeof listener>>;
  beforeAll(async () => {
    eddy = await start();
    target = await listener();
    servers.push(target.server);
  });

  it("refuses loopback in every spelling, private, link-local and metadata targets with 400", async () => {
    const p = target.port;
    for (const url of [
      `http://127.0.0.1:${p}/hook`,
      `http://0x7f000001:${p}/hook`,
      `http://2130706433:${p}/hook`,
      `http://127.1:${p}/hook`,
      `http://[::ffff:127.0.0.1]:${p}/hook`,
      `http://[::1]:${p}/hook`,
      `http://localhost:${p}/hook`,
      `http://LOCALHOST.:${p}/hook`,
      `http://0.0.0.0:${p}/hook`,
      "http://169.254.169.254/latest/meta-data/",
      "http://10.0.0.1/hook",
      "http://192.168.1.1/hook",
      "http://[fd00::1]/hook",
      `http://user:pw@example.com/hook`,
    ]) {
      const res = await ask(eddy, url);
      expect(res.status, url).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(await res.json()).toMatchObject({ code: "EDDY_CALLBACK_NOT_ALLOWED" });
    }
    expect(target.hits).toEqual([]);
  });

  it("refuses, when sending, a name that resolves to a loopback address", async () => {
    const name = hostname();
    // The machine's own name resolves to one of its addresses (loopback here, from /etc/hosts):
    // refused either way, as loopback or as an address of this server.
    const addresses = await lookup(name, { all: true });
    expect(addresses.length).toBeGreaterThan(0);
    const { lines, log } = capturingLog();
    const checked = await start({ log });
    const url = `http://${name}:${target.port}/rebound`;
    expect((await ask(checked, url)).status).toBe(202);
    await waitFor(() => lines.find((l) => l.url === url && /refused/.test(l.msg)), "the refusal");
    expect(target.hits).toEqual([]);
  });
});

describe("allowed callbacks", () => {
  it("calls an allowed private target and does not follow its redirect", async () => {
    const inner = await listener();
    const redirecting = await listener((res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${inner.port}/internal` }).end();
    });
    servers.push(inner.server, redirecting.server);
    const { lines, log } = capturingLog();
    const eddy = await start({ log, gateway: { callbackAllow: ["127.0.0.0/8"] } });
    const url = `http://127.0.0.1:${redirecting.port}/hook`;
    expect((await ask(eddy, url)).status).toBe(202);
    await waitFor(
      () => lines.find((l) => l.url === url && /redirect/.test(l.msg)),
      "the redirect to be refused",
    );
    expect(redirecting.hits).toEqual(["/hook"]);
    expect(inner.hits).toEqual([]);
  });

  it("refuses a start with an allow list entry that is not an address or block", async () => {
    await expect(start({ gateway: { callbackAllow: ["intranet"] } })).rejects.toThrow(/callbackAllow/);
  });
});
