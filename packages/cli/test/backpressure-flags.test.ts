import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { fnSource, tempApp } from "../../server/test/helpers.js";
import type { EddyProcess } from "./helpers.js";
import { spawnEddy } from "./helpers.js";

// `eddy start --max-backlog-per-function`: the limit reaches the server from the command line.
const app = tempApp({
  "functions/stuck.ts": fnSource(
    "stuck",
    { type: ["stuck"] },
    "await new Promise(() => undefined);",
    `concurrency: { max: 1 }, timeout: "60s"`,
  ),
});
const dir = app.dir;
let eddy: EddyProcess | undefined;
afterAll(async () => {
  await eddy?.stop(1_000);
  app.cleanup();
});

const send = (id: string) =>
  fetch(`${eddy!.url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ specversion: "1.0", id, source: "/cli", type: "stuck" }),
  });

it("refuses events past --max-backlog-per-function with 429 and Retry-After", async () => {
  eddy = await spawnEddy([
    "start",
    dir,
    "--no-auth",
    "--port",
    "0",
    "--data-dir",
    join(dir, ".data"),
    "--max-backlog-per-function",
    "2",
  ]);
  expect((await send("a")).status).toBe(202);
  expect((await send("b")).status).toBe(202);
  const refused = await send("c");
  expect(refused.status).toBe(429);
  expect(refused.headers.get("retry-after")).toBe("1");
  expect(((await refused.json()) as { code: string }).code).toBe("EDDY_BACKLOG_FULL");
});
