// The server-wide budget of request-body bytes (connections.maxBufferedBodyBytes): sockets that
// each send part of a chunked body and stall cannot make the server hold more than the budget.
// What it holds is read from its own gauge (eddy_http_buffered_body_bytes); nothing here waits on
// a wall clock, only on the gauge and on each socket's answer or close.
import { connect } from "node:net";
import type { Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp, waitFor } from "./helpers.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const BUDGET = 8 * MiB;
const PART = 512 * KiB;
const SLOW = 60_000;

const app = tempApp({
  "functions/upload.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "upload", triggers: [on.http("POST /upload", { public: true })] },
  async (request) => ({ bytes: (await request.text()).length }));`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  // Stalled sockets are closed by the test, not by the request timeout (long here).
  eddy = await startTestEddy(app.dir, {
    connections: { maxBufferedBodyBytes: BUDGET, requestTimeoutMs: 120_000 },
  });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

interface Stalled {
  socket: Socket;
  /** Everything the server sent, once the socket closed. */
  answer: Promise<string>;
  closed: boolean;
}

/** A socket that sends `path` a chunked body of `bytes` and stalls (the last chunk never comes). */
function stalled(path: string, bytes: number): Stalled {
  const { hostname, port } = new URL(eddy.url);
  const socket = connect(Number(port), hostname);
  const s: Stalled = { socket, answer: Promise.resolve(""), closed: false };
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  socket.on("error", () => undefined);
  s.answer = new Promise((resolve) =>
    socket.on("close", () => {
      s.closed = true;
      resolve(Buffer.concat(chunks).toString("utf8"));
    }),
  );
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nConnection: close\r\n` +
      `Transfer-Encoding: chunked\r\n\r\n${bytes.toString(16)}\r\n${"x".repeat(bytes)}\r\n`,
  );
  return s;
}

/** The server's gauge of buffered request-body bytes, from /metrics. */
async function buffered(): Promise<number> {
  const text = await (await fetch(`${eddy.url}/metrics`)).text();
  const line = /^eddy_http_buffered_body_bytes (\d+)$/m.exec(text);
  if (!line) throw new Error("no eddy_http_buffered_body_bytes on /metrics");
  return Number(line[1]);
}

/** Waits until the gauge satisfies `ok`, checking every reading against the budget. */
async function gaugeUntil(ok: (bytes: number) => boolean, what: string): Promise<number> {
  return waitFor(
    async () => {
      const bytes = await buffered();
      expect(bytes).toBeLessThanOrEqual(BUDGET);
      return ok(bytes) ? bytes : undefined;
    },
    what,
    SLOW,
  );
}

function expectBusy(answer: string) {
  expect(answer).toMatch(/^HTTP\/1\.1 503 /);
  expect(answer).toMatch(/content-type: application\/problem\+json/i);
  expect(answer).toMatch(/retry-after: \d+/i);
  const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
  expect(body).toMatchObject({ status: 503, code: "EDDY_SERVER_BUSY" });
}

function rss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

describe("request-body budget", () => {
  it("serves a normal request and holds nothing after it", async () => {
    const res = await fetch(`${eddy.url}/upload`, { method: "POST", body: "hello" });
    expect(await res.json()).toEqual({ bytes: 5 });
    await gaugeUntil((b) => b === 0, "nothing buffered");
  });

  it("holds at most the budget under 40 stalled 512 KiB bodies, refuses the rest with 503, and frees it all on close", async () => {
    const before = rss();
    const sockets = Array.from({ length: 40 }, () => stalled("/upload", PART));
    // Settled: every socket still open holds its whole part (one refused, or still arriving,
    // holds less), and the refused ones have closed.
    const held = await gaugeUntil(
      (b) => b === sockets.filter((s) => !s.closed).length * PART,
      "every stalled body held in full or refused",
    );
    const grown = rss() - before;
    const refused = sockets.filter((s) => s.closed);
    expect(held).toBeLessThanOrEqual(BUDGET);
    expect(refused.length).toBeGreaterThanOrEqual(40 - BUDGET / PART);
    for (const s of refused) expectBusy(await s.answer);
    expect(grown).toBeLessThan(4 * BUDGET + 64 * MiB);
    console.log(
      `held ${held} bytes, ${refused.length} of 40 refused, rss grew ${(grown / MiB).toFixed(1)} MiB`,
    );

    for (const s of sockets) s.socket.destroy();
    await Promise.all(sockets.map((s) => s.answer));
    await gaugeUntil((b) => b === 0, "every body released once its socket closed");
  });

  it("serves requests under the budget while others hold most of it, and refuses the API's past it", async () => {
    // 15 stalled parts, one after the other: 7.5 of the 8 MiB held.
    const holders: Stalled[] = [];
    for (let i = 1; i <= 15; i++) {
      holders.push(stalled("/upload", PART));
      await gaugeUntil((b) => b === i * PART, `${i} parts held`);
    }
    // A whole request that fits in what is left is served as usual.
    const fits = await fetch(`${eddy.url}/upload`, { method: "POST", body: "y".repeat(256 * KiB) });
    expect(await fits.json()).toEqual({ bytes: 256 * KiB });
    // The API's bodies count too: one that would go over is refused.
    const { hostname, port } = new URL(eddy.url);
    const api = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    api.on("data", (c: Buffer) => chunks.push(c));
    api.on("error", () => undefined);
    const body = JSON.stringify({
      specversion: "1.0",
      id: "big",
      source: "t",
      type: "t",
      data: "z".repeat(MiB),
    });
    api.write(
      `POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/cloudevents+json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
    await new Promise((r) => api.on("close", r));
    expectBusy(Buffer.concat(chunks).toString("utf8"));
    // A held request finishes normally once its body is complete, and gives its bytes back.
    const first = holders[0]!;
    first.socket.write("0\r\n\r\n");
    const answer = await first.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({ bytes: PART });
    await gaugeUntil((b) => b === 14 * PART, "the finished request's bytes released");
    for (const s of holders) s.socket.destroy();
    await Promise.all(holders.map((s) => s.answer));
    await gaugeUntil((b) => b === 0, "every body released");
    const after = await fetch(`${eddy.url}/upload`, { method: "POST", body: "hello" });
    expect(await after.json()).toEqual({ bytes: 5 });
  });
});
