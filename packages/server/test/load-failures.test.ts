// An app folder with bad modules: each is skipped with its error, the others run, /readyz says
// which failed, and strict mode refuses to start. A module's configuration is what defineFunction
// checked only until its own code changes it: the server checks it again.
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { fnSource, getJson, post, startTestEddy, tempApp, waitFor, invocations } from "./helpers.js";

/** A module that changes its configuration after defineFunction checked it. */
const changed = (name: string, trigger: string, change: string) => `import { defineFunction, on } from "eddy";
const fn = defineFunction({ name: ${JSON.stringify(name)}, triggers: [${trigger}] }, async () => ({ ok: true }));
const config = fn.config as any;
${change};
export default fn;
`;

const app = tempApp({
  "functions/ok.ts": fnSource("ok", { type: ["go"] }, `ctx.log.info("ran");`),
  "functions/bad-cron.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ triggers: [on.schedule("99 * * * *")] }, async () => {});
`,
  "functions/bad-pattern.ts": changed(
    "bad-pattern",
    `on.event({ type: ["go"] })`,
    `config.triggers[0].pattern = { type: "go" }`,
  ),
  "functions/bad-memory.ts": changed("bad-memory", `on.event({ type: ["go"] })`, `config.memoryMb = -1`),
  "functions/api-route.ts": changed(
    "api-route",
    `on.http("GET /status", { public: true })`,
    `config.triggers[0].path = "/v1/functions"`,
  ),
});
const dataDir = join(app.dir, "data");
afterAll(() => app.cleanup());

it("skips each bad module with its error, runs the others, and /readyz names the failures", async () => {
  const eddy = await startTestEddy(app.dir, { dataDir });
  try {
    expect(eddy.engine.functions().map((f) => f.name)).toEqual(["ok"]);
    const failures = Object.fromEntries(eddy.failures.map((f) => [f.file, f.message]));
    expect(failures).toEqual({
      "functions/bad-cron.ts": expect.stringContaining('schedule "99 * * * *"'),
      "functions/bad-pattern.ts": expect.stringMatching(
        /invalid configuration: triggers\[0\]\.type: .*changed after defineFunction/,
      ),
      "functions/bad-memory.ts": expect.stringContaining(
        "invalid configuration: memoryMb: must be an integer from 16 to 16384, got -1",
      ),
      "functions/api-route.ts": expect.stringContaining("/v1 is Eddy's own API"),
    });

    const ready = await fetch(`${eddy.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.headers.get("content-type")).toContain("application/problem+json");
    const body = (await ready.json()) as { loadFailures: unknown[] };
    expect(body).toMatchObject({
      code: "EDDY_NOT_READY",
      checks: { backend: "ok", functions: "1 loaded, 4 failed to load" },
      detail: expect.stringContaining("4 function file(s) failed to load"),
    });
    expect(body.loadFailures).toHaveLength(4);
    expect(body.loadFailures).toContainEqual({
      file: "functions/bad-memory.ts",
      message: failures["functions/bad-memory.ts"],
    });

    // No route under Eddy's own API is listed or documented.
    const routes = await getJson<{ routes: { route: string }[] }>(`${eddy.url}/v1/routes`);
    expect(routes.routes).toEqual([]);
    const openapi = await getJson<{ paths: Record<string, unknown> }>(`${eddy.url}/v1/openapi.json`);
    expect(Object.keys(openapi.paths)).toEqual([]);

    // The good function runs.
    const sent = await post(`${eddy.url}/v1/events`, {
      specversion: "1.0",
      id: "e1",
      source: "/t",
      type: "go",
    });
    expect(sent.status).toBe(202);
    await waitFor(
      async () => (await invocations(eddy.url, "ok")).find((i) => i.outcome === "ack"),
      "ok to run",
    );
  } finally {
    await eddy.close();
  }
});

it("strict mode refuses to start, naming every file that failed", async () => {
  // One module per process sandbox: the configuration is checked on that path too.
  const start = startTestEddy(app.dir, { dataDir, strict: true, isolation: "process" });
  await expect(start).rejects.toThrow(/4 function file\(s\) failed to load \(strict mode\)/);
  await expect(start).rejects.toThrow(/functions\/bad-memory\.ts: .*memoryMb/);
});

it("a folder without failures is ready", async () => {
  const good = tempApp({ "functions/ok.ts": fnSource("ok", { type: ["go"] }) });
  const eddy = await startTestEddy(good.dir, { strict: true });
  try {
    const ready = await getJson<{ status: string; checks: Record<string, string> }>(`${eddy.url}/readyz`);
    expect(ready).toMatchObject({ status: "ready", checks: { functions: "1 loaded" } });
  } finally {
    await eddy.close();
    good.cleanup();
  }
});
