// Versions and deploys over HTTP: the admin key, atomic swaps with in-flight attempts finishing on
// the old version, rollback, refusal of a bad upload, and what a restart runs.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import {
  deployBody,
  fnSource,
  getJson,
  invocations,
  post,
  startTestEddy,
  tempApp,
  waitFor,
} from "./helpers.js";

const KEY = "test-admin-key-0123456789";
// Each version logs its name; the first one takes long enough to be in flight during a deploy.
const version = (tag: string, body = "") =>
  fnSource("greeter", { type: ["greet"] }, `${body} ctx.log.info(${JSON.stringify(tag)});`);
const app = tempApp({
  "functions/greeter.ts": version("v1", "await new Promise((r) => setTimeout(r, 1500));"),
});
const dataDir = join(app.dir, "data");
let eddy: RunningEddy;

const auth = { "content-type": "application/json", authorization: `Bearer ${KEY}` };

async function greet(id: string) {
  expect(
    (await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type: "greet" })).status,
  ).toBe(202);
  return waitFor(
    async () => (await invocations(eddy.url, "greeter")).find((i) => i.eventId === id && i.outcome === "ack"),
    `greeter to run ${id}`,
  );
}

interface View {
  version: string;
  versions: { version: string; via: string; running: boolean }[];
}

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { dataDir, adminKey: KEY });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

describe("the admin key", () => {
  it("is required to deploy: 401 without it or with another one", async () => {
    const body = await deployBody({ "functions/greeter.ts": version("v2") });
    const none = await post(`${eddy.url}/v1/deploy`, body, { "content-type": "application/json" });
    expect(none).toMatchObject({
      status: 401,
      type: expect.stringContaining("application/problem+json"),
      body: { code: "EDDY_UNAUTHORIZED" },
    });
    const wrong = await post(`${eddy.url}/v1/deploy`, body, {
      ...auth,
      authorization: "Bearer not-the-key-at-all!!",
    });
    expect(wrong).toMatchObject({ status: 401, body: { code: "EDDY_UNAUTHORIZED" } });
    const rollback = await post(
      `${eddy.url}/v1/functions/greeter/rollback`,
      {},
      { "content-type": "application/json" },
    );
    expect(rollback.status).toBe(401);
  });

  it("when the server has none, deploys are refused with 403 saying how to set one", async () => {
    const other = tempApp({ "functions/greeter.ts": version("v1") });
    const server = await startTestEddy(other.dir);
    try {
      const res = await post(`${server.url}/v1/deploy`, { functions: [] }, auth);
      expect(res).toMatchObject({ status: 403, body: { code: "EDDY_ADMIN_KEY_NOT_SET" } });
      expect(res.body.detail).toContain("--admin-key");
    } finally {
      await server.close();
      other.cleanup();
    }
  });

  it("must be long enough", async () => {
    await expect(
      startTestEddy(app.dir, { adminKey: "short", dataDir: join(app.dir, "other") }),
    ).rejects.toThrow(/at least 16 characters/);
  });
});

describe("deploy and rollback", () => {
  let v1: string;
  let v2: string;

  it("swaps atomically; the attempt in flight finishes on the old version", async () => {
    v1 = eddy.engine.function("greeter")!.version;
    expect(
      (await post(`${eddy.url}/v1/events`, { specversion: "1.0", id: "during", source: "/t", type: "greet" }))
        .status,
    ).toBe(202);
    await waitFor(() => eddy.engine.function("greeter")!.inFlight === 1, "the v1 attempt to start");
    const res = await post(
      `${eddy.url}/v1/deploy`,
      await deployBody({ "functions/greeter.ts": version("v2") }),
      auth,
    );
    expect(res.status).toBe(200);
    const [change] = res.body.functions as {
      name: string;
      change: string;
      version: string;
      previous: string;
    }[];
    expect(change).toMatchObject({ name: "greeter", change: "updated", previous: v1 });
    v2 = change!.version;
    expect(eddy.engine.function("greeter")!.version).toBe(v2);

    const during = await waitFor(
      async () => (await invocations(eddy.url, "greeter")).find((i) => i.eventId === "during"),
      "the in-flight attempt to settle",
    );
    expect(during).toMatchObject({ status: "succeeded", outcome: "ack", version: v1, logs: [{ msg: "v1" }] });
    expect(await greet("after")).toMatchObject({ version: v2, logs: [{ msg: "v2" }] });
  });

  it("the same code deploys as the same version: nothing changes", async () => {
    const res = await post(
      `${eddy.url}/v1/deploy`,
      await deployBody({ "functions/greeter.ts": version("v2") }),
      auth,
    );
    expect(res.body.functions).toEqual([{ name: "greeter", change: "unchanged", version: v2, previous: v2 }]);
  });

  it("lists the versions; rollback goes back to the previous one, and no further than the first", async () => {
    const view = await getJson<View>(`${eddy.url}/v1/functions/greeter`);
    expect(view.versions.map((v) => [v.version, v.via, v.running])).toEqual([
      [v2, "api", true],
      [v1, "folder", false],
    ]);
    const back = await post(`${eddy.url}/v1/functions/greeter/rollback`, {}, auth);
    expect(back).toMatchObject({ status: 200, body: { name: "greeter", version: v1, previous: v2 } });
    expect(await greet("rolled-back")).toMatchObject({ version: v1, logs: [{ msg: "v1" }] });
    const again = await post(`${eddy.url}/v1/functions/greeter/rollback`, {}, auth);
    expect(again).toMatchObject({ status: 409, body: { code: "EDDY_NO_PREVIOUS_VERSION" } });
    const unknown = await post(`${eddy.url}/v1/functions/nobody/rollback`, {}, auth);
    expect(unknown).toMatchObject({ status: 404, body: { code: "EDDY_NOT_FOUND" } });
  });

  it("refuses an upload with a broken module, naming it, and changes nothing", async () => {
    const body = await deployBody({
      "functions/greeter.ts": version("v3"),
      "functions/broken.ts": `import { defineFunction } from "eddy";\nthrow new Error("broken at import");\n`,
    });
    const res = await post(`${eddy.url}/v1/deploy`, body, auth);
    expect(res).toMatchObject({ status: 422, body: { code: "EDDY_DEPLOY_FAILED" } });
    expect(res.body.errors).toEqual([
      { path: "functions/broken.ts", message: expect.stringContaining("broken at import") },
    ]);
    expect(eddy.engine.function("greeter")!.version).toBe(v1);
    expect(eddy.engine.function("broken")).toBeUndefined();
  });

  it("refuses an upload whose module changes its configuration after defineFunction, and changes nothing", async () => {
    const routesBefore = await getJson(`${eddy.url}/v1/routes`);
    const body = await deployBody({
      "functions/greeter.ts": version("v3"),
      "functions/sneaky.ts": `import { defineFunction, on } from "eddy";
const fn = defineFunction({ name: "sneaky", triggers: [on.http("GET /sneaky", { public: true })] }, async () => 1);
(fn.config.triggers[0] as { path: string }).path = "/v1/functions";
(fn.config as { memoryMb: number }).memoryMb = 0;
export default fn;
`,
      "functions/unmatchable.ts": `import { defineFunction, on } from "eddy";
const fn = defineFunction({ name: "unmatchable", triggers: [on.event({ type: ["greet"] })] }, async () => {});
(fn.config.triggers[0] as { pattern: unknown }).pattern = { type: "greet" };
export default fn;
`,
    });
    const res = await post(`${eddy.url}/v1/deploy`, body, auth);
    expect(res).toMatchObject({ status: 422, body: { code: "EDDY_DEPLOY_FAILED" } });
    expect(res.body.errors).toEqual([
      {
        path: "functions/sneaky.ts",
        message: expect.stringMatching(
          /invalid configuration: triggers\[0\]\.http\.path: \/v1 is Eddy's own API/,
        ),
      },
      {
        path: "functions/unmatchable.ts",
        message: expect.stringMatching(
          /invalid configuration: triggers\[0\]\.type: .*changed after defineFunction/,
        ),
      },
    ]);
    // Nothing changed: the same functions, routes and version, and events still run.
    expect(
      (await getJson<{ functions: { name: string }[] }>(`${eddy.url}/v1/functions`)).functions.map(
        (f) => f.name,
      ),
    ).toEqual(["greeter"]);
    expect(await getJson(`${eddy.url}/v1/routes`)).toEqual(routesBefore);
    expect(eddy.engine.function("greeter")!.version).toBe(v1);
    expect(await greet("after-refused")).toMatchObject({ version: v1 });
  });

  it("a restart on an unchanged folder keeps the deployed version; a changed folder wins", async () => {
    const res = await post(
      `${eddy.url}/v1/deploy`,
      await deployBody({ "functions/greeter.ts": version("v2") }),
      auth,
    );
    expect(res.status).toBe(200);
    await eddy.close();
    eddy = await startTestEddy(app.dir, { dataDir, adminKey: KEY });
    expect(eddy.engine.function("greeter")!.version).toBe(v2);

    await eddy.close();
    writeFileSync(join(app.dir, "functions/greeter.ts"), version("v4"));
    eddy = await startTestEddy(app.dir, { dataDir, adminKey: KEY });
    expect(await greet("v4")).toMatchObject({ logs: [{ msg: "v4" }] });
    const view = await getJson<View>(`${eddy.url}/v1/functions/greeter`);
    expect(view.versions.map((v) => v.via)).toEqual(["folder", "api", "folder"]);
  });
});
