// `eddy start --backend cluster`: its errors, and the same settings from env vars and eddy.config.json.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { runEddy, spawnEddy } from "../../cli/test/helpers.js";
import { workApp } from "./nodes.js";
import { freePort } from "./private-servers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const app = workApp();
const prefix = uniquePrefix("cli");
let node: EddyProcess | undefined;

beforeAll(requireServices);
afterAll(async () => {
  await node?.stop(5_000);
  await dropPrefix(prefix);
  app.cleanup();
});

it("names the unreachable server and what to run", async () => {
  const port = await freePort();
  const nats = await runEddy([
    "start",
    app.dir,
    "--backend",
    "cluster",
    "--nats",
    `nats://127.0.0.1:${port}`,
    "--postgres",
    POSTGRES_URL,
  ]);
  expect(nats.code).toBe(1);
  expect(nats.out).toContain(
    `[cluster] cannot reach NATS at 127.0.0.1:${port}: connection refused — is nats-server -js running?`,
  );
  const pg = await runEddy([
    "start",
    app.dir,
    "--backend",
    "cluster",
    "--nats",
    NATS_URL,
    "--postgres",
    `postgres://postgres@127.0.0.1:${port}/x`,
  ]);
  expect(pg.code).toBe(1);
  expect(pg.out).toContain(`[cluster] cannot reach PostgreSQL at 127.0.0.1:${port}/x: connection refused`);
  const missing = await runEddy(["start", app.dir, "--backend", "cluster"], {
    EDDY_NATS_URL: "",
    EDDY_POSTGRES_URL: "",
  });
  expect(missing.out).toContain("--backend cluster needs --nats URL (or EDDY_NATS_URL) and --postgres URL");
});

it("takes the backend from eddy.config.json and the addresses from the environment", async () => {
  writeFileSync(
    join(app.dir, "eddy.config.json"),
    JSON.stringify({ backend: "cluster", clusterPrefix: prefix }),
  );
  try {
    node = await spawnEddy(["start", app.dir, "--port", "0"], {
      EDDY_NATS_URL: NATS_URL,
      EDDY_POSTGRES_URL: POSTGRES_URL,
      EDDY_LOG_LEVEL: "info",
    });
    expect(node.output()).toContain('"backend":"cluster"');
    // The environment wins over the file.
    const embedded = await spawnEddy(["start", app.dir, "--port", "0"], {
      EDDY_BACKEND: "embedded",
      EDDY_LOG_LEVEL: "info",
    });
    await embedded.stop();
    expect(embedded.output()).toContain('"backend":"embedded"');
  } finally {
    writeFileSync(join(app.dir, "eddy.config.json"), JSON.stringify({ bakend: "cluster" }));
    const typo = await runEddy(["start", app.dir, "--port", "0"]);
    expect(typo.code).toBe(1);
    expect(typo.out).toContain('unknown setting "bakend"');
  }
});
