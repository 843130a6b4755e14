import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { openClusterBackend } from "@eddy/cluster";
import {
  fnSource,
  invocations,
  startTestEddy,
  tempApp,
  waitForSucceeded,
} from "../../server/test/helpers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

// A cluster whose event log cannot take more (JetStream refuses writes past the stream's byte
// limit, as it does when its storage is full): ingest answers 503 with Retry-After, the node stays
// up, and once the log takes writes again every acknowledged event is delivered.
const prefix = uniquePrefix("full");
const logStream = `${prefix.toUpperCase()}_LOG`;
const app = tempApp({ "functions/sink.ts": fnSource("sink", { type: ["fill"] }) });
let eddy: RunningEddy | undefined;
let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  await requireServices();
  nc = await connect({ servers: NATS_URL });
  jsm = await jetstreamManager(nc);
  const backend = await openClusterBackend({ nats: NATS_URL, postgres: POSTGRES_URL, prefix, poolSize: 4 });
  eddy = await startTestEddy(app.dir, { backend });
});
afterAll(async () => {
  await eddy?.close(0);
  await nc?.close();
  await dropPrefix(prefix);
  app.cleanup();
});

async function send(id: string): Promise<Response> {
  return fetch(`${eddy!.url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ specversion: "1.0", id, source: "/full", type: "fill", data: {} }),
  });
}

async function limitLog(maxBytes: number): Promise<void> {
  const info = await jsm.streams.info(logStream);
  await jsm.streams.update(logStream, { ...info.config, max_bytes: maxBytes, discard: "new" as never });
}

describe("ingest when the cluster's log cannot write", () => {
  it("refuses with 503 and Retry-After, and delivers what it acknowledged once the log writes again", async () => {
    const acked: string[] = [];
    for (let i = 0; i < 3; i++) {
      expect((await send(`before-${i}`)).status).toBe(202);
      acked.push(`before-${i}`);
    }
    await limitLog((await jsm.streams.info(logStream)).state.bytes);
    const res = await send("refused");
    expect(res.status).toBe(503);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await res.json()) as { code: string }).code).toMatch(/^EDDY_STORE_(FULL|UNAVAILABLE)$/);
    expect((await fetch(`${eddy!.url}/healthz`)).status).toBe(200);

    await limitLog(-1);
    expect((await send("after")).status).toBe(202);
    acked.push("after");
    await waitForSucceeded(eddy!.url, "sink", acked, 30_000);
    expect((await invocations(eddy!.url, "sink")).some((x) => x.eventId === "refused")).toBe(false);
  });
});
