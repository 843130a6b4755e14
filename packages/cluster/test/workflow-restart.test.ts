// A workflow run sleeping when its node stops finishes on the next node on the same storage: the
// cluster's side of the embedded restart test in packages/server/test/workflows.test.ts.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openClusterBackend } from "@eddy/cluster";
import type { RunningEddy } from "@eddy/server";
import { startTestEddy, tempApp } from "../../server/test/helpers.js";
import { lines, send, waitForRun, workflowSource } from "../../server/test/workflow-helpers.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const tmp = mkdtempSync(join(tmpdir(), "eddy-wf-cluster-"));
const effects = join(tmp, "effects");
const app = tempApp({
  "functions/nap.ts": workflowSource(
    "nap",
    "nap.go",
    `await step.run("a", () => { appendFileSync(${JSON.stringify(effects)}, "a\\n"); });
     await step.sleep("nap", "3s");
     await step.run("b", () => { appendFileSync(${JSON.stringify(effects)}, "b\\n"); });
     return "woke";`,
  ),
});
const prefix = uniquePrefix("wfrestart");
const open = () => openClusterBackend({ nats: NATS_URL, postgres: POSTGRES_URL, prefix, poolSize: 4 });
let eddy: RunningEddy | undefined;

beforeAll(requireServices);
afterAll(async () => {
  await eddy?.close();
  await dropPrefix(prefix);
  app.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

it("a run sleeping when its node stops finishes on the next node, without running a step twice", async () => {
  eddy = await startTestEddy(app.dir, { backend: await open(), dataDir: join(tmp, "a") });
  await send(eddy.url, "nap.go", {});
  await waitForRun(eddy.url, "nap", "sleeping");
  await eddy.close();
  eddy = await startTestEddy(app.dir, { backend: await open(), dataDir: join(tmp, "b") });
  const done = await waitForRun(eddy.url, "nap", "succeeded", 1, 20_000);
  expect(done.output).toBe("woke");
  expect(lines(effects)).toEqual(["a", "b"]);
}, 40_000);
