// What a new user hits first, through the real `eddy` command: `eddy dev` shows each invocation as
// it ends, errors show up in `eddy logs --level error`, and every mistake (a typo'd name, a
// missing folder, a taken port, missing credentials) gets a message that says what to do.
import { createServer } from "node:net";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { REPO, runEddy, spawnEddy } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "eddy-new-user-"));
const app = join(root, "app");
const files: Record<string, string> = {
  "greet.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "greet", triggers: [on.event({ type: ["greet"] })] }, async (event, ctx) => {
  ctx.log.info("hello");
});`,
  "charge.ts": `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "charge", triggers: [on.event({ type: ["charge"] })], retries: { maxAttempts: 2, backoff: { initial: "10ms" } } },
  async () => { throw new Error("card declined"); },
);`,
  "worker.ts": `import { defineFunction, on, NonRetriableError } from "eddy";
export default defineFunction({ name: "worker", triggers: [on.queue("jobs")] }, async () => {
  throw new NonRetriableError("bad job");
});`,
  "typo.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "typo", triggers: [on.event({ typ: ["greet"] })] }, async () => {});`,
};
mkdirSync(join(app, "functions"), { recursive: true });
for (const [name, text] of Object.entries(files)) writeFileSync(join(app, "functions", name), text);

const KEY = "new-user-admin-key-0123456789";
let dev: EddyProcess | undefined;
let prod: EddyProcess | undefined;

beforeAll(async () => {
  [dev, prod] = await Promise.all([
    spawnEddy(["dev", app, "--port", "0", "--data-dir", join(root, "dev-data")]),
    spawnEddy(["start", app, "--port", "0", "--data-dir", join(root, "prod-data"), "--admin-key", KEY]),
  ]);
});
afterAll(async () => {
  await Promise.all([dev?.stop(), prod?.stop()]);
  rmSync(root, { recursive: true, force: true });
});

/** Waits until `eddy dev` has printed a line matching `re`. */
async function printed(re: RegExp): Promise<string> {
  await expect.poll(() => re.test(dev!.output()), { timeout: 15_000, interval: 50 }).toBe(true);
  return re.exec(dev!.output())![0];
}

describe("eddy dev shows invocations as they happen", () => {
  it("prints a success, and a failure with its error, the retry and the dead letter", async () => {
    expect(dev!.output()).toMatch(/⚠ functions\/typo\.ts: function typo: triggers\[0\]: pattern key "typ"/);
    expect((await runEddy(["send", "greet", "--id", "g-1", "--url", dev!.url])).code).toBe(0);
    await printed(/✓ greet ← greet g-1 \d+ ms/);
    expect((await runEddy(["send", "charge", "--id", "c-1", "--url", dev!.url])).code).toBe(0);
    await printed(/✗ charge ← charge c-1 #1 \d+ ms {2}Error: card declined → retry 2\/2 in [\d.]+ s/);
    await printed(
      /✗ charge ← charge c-1 #2 \d+ ms {2}Error: card declined → dead-lettered \(eddy dlq ls charge\)/,
    );
  });

  it("eddy logs --level error shows the error a function threw; eddy logs without a name shows every function", async () => {
    const errors = await runEddy(["logs", "charge", "--level", "error", "--url", dev!.url]);
    expect(errors.code, errors.out).toBe(0);
    expect(errors.out).toMatch(/ERROR \[charge#1\] Error: card declined \{"outcome":"retry"\}/);
    expect(errors.out).toMatch(/ERROR \[charge#2\] Error: card declined \{"outcome":"dead"\}/);
    const all = await runEddy(["logs", "--url", dev!.url]);
    expect(all.code, all.out).toBe(0);
    expect(all.out).toMatch(/INFO {2}\[greet#1\] hello/);
    expect(all.out).toMatch(/ERROR \[charge#1\] Error: card declined/);
  });
});

describe("mistakes get messages that say what to do", () => {
  it("eddy logs with an unknown function name fails and says so", async () => {
    const r = await runEddy(["logs", "nosuchfn", "--url", dev!.url]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('no function named "nosuchfn" is deployed');
  });

  it("eddy send says how many functions the event was routed to, and warns on none", async () => {
    const one = await runEddy(["send", "greet", "--url", dev!.url]);
    expect(one.out).toMatch(/^accepted \S+ \(routed to 1 function\)\n$/);
    const none = await runEddy(["send", "greeet", "--url", dev!.url]);
    expect(none.code).toBe(0);
    expect(none.out).toMatch(/^accepted \S+ \(routed to 0 functions\)/);
    expect(none.out).toContain(`no function's trigger matches "greeet"`);
  });

  it("eddy dlq ls FUNCTION points to --queue when the dead letters are in its queue's", async () => {
    const sent = await fetch(`${dev!.url}/v1/queues/jobs/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ body: { job: 1 } }),
    });
    expect(sent.status).toBeLessThan(300);
    await expect
      .poll(
        async () =>
          ((await (await fetch(`${dev!.url}/v1/dlq`)).json()) as { queues: Record<string, number> }).queues
            .jobs,
        { timeout: 15_000 },
      )
      .toBe(1);
    const r = await runEddy(["dlq", "ls", "worker", "--url", dev!.url]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toContain("no dead letters for function worker");
    expect(r.out).toContain("1 in queue jobs: eddy dlq ls jobs --queue");
    const unknown = await runEddy(["dlq", "ls", "nosuchfn", "--url", dev!.url]);
    expect(unknown.code).toBe(1);
    expect(unknown.out).toContain('no function named "nosuchfn" is deployed');
  });

  it("401 and 403 are refusals that say which credentials to give, not crashes", async () => {
    const none = await runEddy(["dlq", "ls", "--url", prod!.url], { EDDY_API_KEY: "", EDDY_ADMIN_KEY: "" });
    expect(none.code).toBe(1);
    expect(none.out).toContain("refused (401)");
    expect(none.out).toContain("--key");
    expect(none.out).not.toMatch(/Cannot convert|TypeError/);
    const created = await fetch(`${prod!.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${KEY}` },
      body: JSON.stringify({ name: "publisher", scopes: ["events:publish"] }),
    });
    const { token } = (await created.json()) as { token: string };
    for (const args of [["dlq", "ls"], ["logs"], ["usage"]]) {
      const r = await runEddy([...args, "--url", prod!.url, "--key", token]);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.out).toContain("refused (403)");
      expect(r.out).toContain("eddy keys create");
      expect(r.out).not.toMatch(/Cannot convert|TypeError/);
    }
  });

  it("eddy --version prints the version", async () => {
    const r = await runEddy(["--version"]);
    expect(r.code).toBe(0);
    const { version } = JSON.parse(readFileSync(join(REPO, "packages/cli/package.json"), "utf8")) as {
      version: string;
    };
    expect(r.out.trim()).toBe(version);
  });

  it("eddy dev on a missing folder fails instead of creating it", async () => {
    const missing = join(root, "no-such-app");
    const r = await runEddy(["dev", missing, "--port", "0"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`no folder ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it("a port in use says so and names --port and EDDY_PORT", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = await runEddy(["dev", app, "--port", String(port), "--data-dir", join(root, "port-data")]);
      expect(r.code).toBe(1);
      expect(r.out).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(r.out).toContain("--port");
      expect(r.out).toContain("EDDY_PORT");
    } finally {
      blocker.close();
    }
  });
});
