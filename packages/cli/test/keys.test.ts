// `eddy start` asks for credentials by default; `eddy keys` makes, lists and revokes them;
// `eddy send --key` uses one; `--no-auth` opens everything and says so.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { runEddy, spawnEddy } from "./helpers.js";

const KEY = "cli-admin-key-0123456789";
const root = mkdtempSync(join(tmpdir(), "eddy-keys-"));
mkdirSync(join(root, "functions"));
writeFileSync(
  join(root, "functions", "hi.ts"),
  `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "hi", triggers: [on.http("GET /hi")] }, async () => "hi");`,
);
const running: EddyProcess[] = [];
afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(root, { recursive: true, force: true });
});

it("eddy start refuses the API and private routes without a key; eddy keys makes and revokes one", async () => {
  const server = await spawnEddy([
    "start",
    root,
    "--port",
    "0",
    "--data-dir",
    join(root, "d1"),
    "--admin-key",
    KEY,
  ]);
  running.push(server);
  const url = server.url;
  const publish = (key?: string) =>
    runEddy(["send", "x.y", "--url", url, ...(key ? ["--key", key] : [])], {
      EDDY_ADMIN_KEY: "",
      EDDY_API_KEY: "",
    });
  const anonymous = await publish();
  expect(anonymous.code).toBe(1);
  expect(anonymous.out).toContain("refused (401)");
  expect((await fetch(`${url}/hi`)).status).toBe(401);

  const made = await runEddy([
    "keys",
    "create",
    "ci",
    "--scope",
    "events:publish",
    "functions:invoke",
    "--url",
    url,
    "--admin-key",
    KEY,
  ]);
  expect(made.code, made.out).toBe(0);
  const token = /^(eddy_[0-9a-f]{12}_\S+)$/m.exec(made.out)![1]!;
  expect((await publish(token)).out).toMatch(/^accepted /);
  expect((await fetch(`${url}/hi`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

  const ls = await runEddy(["keys", "ls", "--url", url], { EDDY_ADMIN_KEY: KEY });
  const id = token.split("_")[1]!;
  expect(ls.out).toContain(`${id}\tci\tevents:publish functions:invoke`);
  expect(ls.out).not.toContain(token);
  expect((await runEddy(["keys", "revoke", id, "--url", url, "--admin-key", KEY])).out).toContain(
    `revoked ${id}`,
  );
  expect((await publish(token)).out).toContain("refused (401)");
});

it("eddy start --no-auth takes requests without credentials, and says so", async () => {
  const server = await spawnEddy(["start", root, "--port", "0", "--data-dir", join(root, "d2"), "--no-auth"]);
  running.push(server);
  expect(server.output()).toContain("⚠ no authentication");
  expect((await fetch(`${server.url}/hi`)).status).toBe(200);
});
