import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { REPO, runEddy, spawnEddy } from "./helpers.js";

const dataDir = mkdtempSync(join(tmpdir(), "eddy-readme-"));
let eddy: EddyProcess | undefined;

afterAll(async () => {
  await eddy?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it("the README's first example is the type-checked file in examples/hello", () => {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const source = readFileSync(join(REPO, "examples/hello/functions/hello.ts"), "utf8");
  expect(readme).toContain("```ts\n" + source + "```");
  expect(readme.split("\n").slice(0, 6).join("\n")).toMatch(/npm ci && npm start[\s\S]*npm test/);
});

it("runs as the README says: dev, send, see the invocation and its log line", async () => {
  // The README's commands, but on a free port and with the data kept out of the repository.
  eddy = await spawnEddy(["dev", "examples/hello", "--port", "0", "--data-dir", dataDir]);
  expect(eddy.output()).toMatch(/ready on http:\/\/127\.0\.0\.1:\d+/);
  const sent = await runEddy(["send", "greeting.sent", "--data", '{"name":"Ada"}', "--url", eddy.url]);
  expect(sent.code, sent.out).toBe(0);
  expect(sent.out).toMatch(/^accepted /);
  const deadline = Date.now() + 10_000;
  let logs: string[] = [];
  while (Date.now() < deadline) {
    const res = await fetch(`${eddy.url}/v1/invocations?function=hello`);
    const body = (await res.json()) as { invocations: { status: string; logs: { msg: string }[] }[] };
    logs = body.invocations.filter((i) => i.status === "succeeded").flatMap((i) => i.logs.map((l) => l.msg));
    if (logs.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  expect(logs).toEqual(["hello, Ada"]);
});

it("eddy send explains bad data, a refusal and an unreachable server", async () => {
  const bad = await runEddy(["send", "x", "--data", "{oops", "--url", eddy!.url]);
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/--data is not valid JSON/);
  const refused = await runEddy(["send", "x", "--source", "", "--url", eddy!.url]);
  expect(refused.code).toBe(1);
  expect(refused.out).toMatch(/refused \(400\)[\s\S]*source: "source" must be a non-empty string/);
  const port = await freePort();
  const down = await runEddy(["send", "x", "--url", `http://127.0.0.1:${port}`]);
  expect(down.code).toBe(1);
  expect(down.out).toContain(`cannot reach Eddy at http://127.0.0.1:${port} (ECONNREFUSED)`);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
