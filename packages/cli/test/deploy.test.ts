// The deploy workflow from the command line: eddy start --admin-key, eddy deploy, eddy rollback,
// and eddy dev reloading on a change.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { runEddy, spawnEddy } from "./helpers.js";

const KEY = "cli-test-admin-key-42";
const root = mkdtempSync(join(tmpdir(), "eddy-cli-deploy-"));
const running: EddyProcess[] = [];

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

function app(name: string, greeting: string): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "functions"), { recursive: true });
  writeFileSync(join(dir, "functions", "greeter.ts"), greeter(greeting));
  return dir;
}

function greeter(greeting: string): string {
  return `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "greeter", triggers: [on.event({ type: ["greet"] })] }, async (event, ctx) => {
  ctx.log.info(${JSON.stringify(greeting)});
});
`;
}

async function until(p: EddyProcess, pattern: RegExp, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(p.output())) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return p.output();
}

it("deploys a folder to a running server and rolls it back", async () => {
  const server = await spawnEddy(["start", app("served", "v1"), "--port", "0", "--admin-key", KEY]);
  running.push(server);
  const url = server.url;

  const deployed = await runEddy(["deploy", app("next", "v2"), "--url", url, "--admin-key", KEY]);
  expect(deployed.code, deployed.out).toBe(0);
  expect(deployed.out).toMatch(/updated\s+greeter\s+[0-9a-f]{16} \(was [0-9a-f]{16}\)/);
  expect(deployed.out).toContain(`deployed 1 function(s) to ${url}`);

  const back = await runEddy(["rollback", "greeter", "--url", url, "--admin-key", KEY]);
  expect(back.code, back.out).toBe(0);
  expect(back.out).toMatch(/^rolled back greeter to [0-9a-f]{16} \(was [0-9a-f]{16}\)/);
  const again = await runEddy(["rollback", "greeter", "--url", url], { EDDY_ADMIN_KEY: KEY });
  expect(again.code).toBe(1);
  expect(again.out).toContain("refused (409)");

  const noKey = await runEddy(["deploy", app("next", "v2"), "--url", url], { EDDY_ADMIN_KEY: "" });
  expect(noKey.code).toBe(1);
  expect(noKey.out).toContain("--admin-key or EDDY_ADMIN_KEY");
  const wrongKey = await runEddy(["deploy", app("next", "v2"), "--url", url, "--admin-key", "x".repeat(20)]);
  expect(wrongKey.out).toContain("refused (401)");

  const broken = join(root, "broken");
  mkdirSync(join(broken, "functions"), { recursive: true });
  writeFileSync(join(broken, "functions", "bad.ts"), "export default {{{");
  const refused = await runEddy(["deploy", broken, "--url", url, "--admin-key", KEY]);
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(/nothing deployed: 1 file\(s\) failed to bundle\n\s+✗ functions\/bad\.ts/);
});

it("eddy dev reloads a changed function and reports a broken one without stopping", async () => {
  const dir = app("dev", "v1");
  const dev = await spawnEddy(["dev", dir, "--port", "0"]);
  running.push(dev);
  // The watcher learns the bundles' inputs right after start.
  await new Promise((r) => setTimeout(r, 500));
  writeFileSync(join(dir, "functions", "greeter.ts"), greeter("v2"));
  await until(dev, /↻ greeter updated in \d+ ms/);
  writeFileSync(join(dir, "functions", "greeter.ts"), "export default {{{");
  await until(dev, /✗ functions\/greeter\.ts: [\s\S]*\(the previous version keeps running\)/);
  const res = await fetch(`${dev.url}/v1/functions/greeter`);
  expect(res.status).toBe(200);
});

it("eddy start refuses deploys without an admin key, saying how to set one", async () => {
  const server = await spawnEddy(["start", app("keyless", "v1"), "--port", "0"], { EDDY_ADMIN_KEY: "" });
  running.push(server);
  const res = await runEddy(["deploy", app("next", "v2"), "--url", server.url, "--admin-key", KEY]);
  expect(res.code).toBe(1);
  expect(res.out).toMatch(/refused \(403\): this server has no admin key[\s\S]*--admin-key/);
});
