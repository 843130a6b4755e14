// Slow and idle clients over raw sockets: headers that never finish, a body that trickles and
// stalls, and more connections than the cap. The server answers 408 problem+json and closes, or
// drops the extra connection; nothing waits on a wall clock here, only on the server's answer.
import { connect } from "node:net";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp, waitFor } from "./helpers.js";

const app = tempApp({
  "functions/upload.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "upload", triggers: [on.http("POST /upload", { public: true })] },
  async (request) => ({ bytes: (await request.text()).length }));`,
});
let eddy: RunningEddy;
let capped: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { connections: { headersTimeoutMs: 150, requestTimeoutMs: 300 } });
  capped = await startTestEddy(app.dir, {
    dataDir: `${app.dir}/.capped`,
    connections: { maxConnections: 2 },
  });
});
afterAll(async () => {
  await eddy?.close();
  await capped?.close();
  app.cleanup();
});

/** Opens a socket to `url`, writes `data`, and resolves everything the server sent until it closed. */
function stall(url: string, data: string): { socket: Socket; answer: Promise<string> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.write(data);
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  const answer = new Promise<string>((resolve) => {
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
    socket.on("error", () => undefined);
  });
  return { socket, answer };
}

function expectTimeout(answer: string) {
  expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  expect(answer).toMatch(/content-type: application\/problem\+json/i);
  const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 408, code: "EDDY_REQUEST_TIMEOUT" });
}

describe("slow clients", () => {
  it("answers 408 and closes when the headers never finish (slowloris)", async () => {
    const { answer } = stall(eddy.url, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    expectTimeout(await answer);
  });

  it("answers 408 and closes when a route's chunked body stalls", async () => {
    const chunk = "x".repeat(64 * 1024);
    const { answer } = stall(
      eddy.url,
      "POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" +
        `${chunk.length.toString(16)}\r\n${chunk}\r\n`,
    );
    expectTimeout(await answer);
    // The timed-out request's bytes are given back to the server's body budget.
    await waitFor(async () => {
      const metrics = await (await fetch(`${eddy.url}/metrics`)).text();
      return /^eddy_http_buffered_body_bytes 0$/m.test(metrics);
    }, "the stalled body released");
  });

  it("answers 408 and closes when a body to the API stalls", async () => {
    const { answer } = stall(
      eddy.url,
      "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\nContent-Length: 1000\r\n\r\n{",
    );
    expectTimeout(await answer);
  });

  it("still serves a request that arrives in time", async () => {
    const res = await fetch(`${eddy.url}/upload`, { method: "POST", body: "hello" });
    expect(await res.json()).toEqual({ bytes: 5 });
  });
});

describe("connection cap", () => {
  it("drops connections past maxConnections, and takes new ones once others close", async () => {
    const held = [stall(capped.url, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"), stall(capped.url, "")];
    // Both are accepted: each gets to the server before the third is tried.
    await Promise.all(held.map(({ socket }) => new Promise((r) => socket.once("connect", r))));
    const extra = stall(capped.url, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    expect(await extra.answer).toBe("");
    for (const { socket } of held) socket.destroy();
    const ok = await waitFor(
      async () => (await fetch(`${capped.url}/healthz`)).ok,
      "a connection under the cap",
    );
    expect(ok).toBe(true);
  });
});
