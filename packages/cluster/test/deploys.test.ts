// Deploys in cluster mode: a version deployed over HTTP through one node runs on another node
// after that node restarts, although it never built nor received the bundle (bundles are shared
// through PostgreSQL).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { runEddy } from "../../cli/test/helpers.js";
import { startNode } from "./nodes.js";
import { dropPrefix, NATS_URL, POSTGRES_URL, requireServices, uniquePrefix } from "./services.js";

const KEY = "cluster-test-admin-key-7";
const root = mkdtempSync(join(tmpdir(), "eddy-cluster-deploy-"));
const spec = { nats: NATS_URL, postgres: POSTGRES_URL, prefix: uniquePrefix("deploy") };
let nodes: EddyProcess[] = [];

function app(name: string, greeting: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "functions"), { recursive: true });
  writeFileSync(
    join(dir, "functions", "greeter.ts"),
    `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "greeter", triggers: [on.event({ type: ["greet"] })] }, async (event, ctx) => {
  ctx.log.info(${JSON.stringify(greeting)});
});
`,
  );
  return dir;
}

async function version(url: string): Promise<string> {
  const res = await fetch(`${url}/v1/functions/greeter`);
  return ((await res.json()) as { version: string }).version;
}

beforeAll(requireServices);
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop(5_000)));
});
afterAll(async () => {
  await dropPrefix(spec.prefix);
  rmSync(root, { recursive: true, force: true });
});

it("runs a version deployed through another node after a restart", async () => {
  const folder = app("folder", "v1");
  nodes = await Promise.all([0, 1].map(() => startNode(spec, folder, { EDDY_ADMIN_KEY: KEY })));
  const v1 = await version(nodes[1]!.url);
  const deployed = await runEddy(["deploy", app("next", "v2"), "--url", nodes[0]!.url, "--admin-key", KEY]);
  expect(deployed.code, deployed.out).toBe(0);
  const v2 = await version(nodes[0]!.url);
  expect(v2).not.toBe(v1);
  // The second node restarts on a fresh data folder (another machine, a new container).
  await nodes[1]!.stop(5_000);
  nodes[1] = await startNode(spec, folder, { EDDY_ADMIN_KEY: KEY });
  expect(await version(nodes[1].url)).toBe(v2);
}, 90_000);
