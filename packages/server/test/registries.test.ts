// The registries in the key-value store, one key per entry (queues, deployed functions), and the
// one-document registries of earlier releases, which a server finds and moves at first use.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { openEmbeddedBackend } from "@eddy/server";
import { DeployStateStore } from "../src/deploy/state.js";
import { resolveQueueConfig } from "../src/queues/queue-config.js";
import { deployBody, fnSource, getJson, startTestEddy, tempApp } from "./helpers.js";

const KEY = "test-admin-key-0123456789";
const auth = { "content-type": "application/json", authorization: `Bearer ${KEY}` };
const greeter = (tag: string) =>
  fnSource("greeter", { type: ["greet"] }, `ctx.log.info(${JSON.stringify(tag)});`);
const apps: { cleanup(): void }[] = [];
let eddy: RunningEddy | undefined;

afterEach(async () => {
  await eddy?.close();
  eddy = undefined;
  for (const a of apps.splice(0)) a.cleanup();
});

/** An app folder with its data folder, whose embedded store `edit` may change while no server runs. */
function app(files: Record<string, string>) {
  const a = tempApp(files);
  apps.push(a);
  const dataDir = join(a.dir, "data");
  return {
    dir: a.dir,
    dataDir,
    async edit(change: (b: ReturnType<typeof openEmbeddedBackend>) => Promise<void>) {
      const b = openEmbeddedBackend({ path: join(dataDir, "eddy.db") });
      try {
        await change(b);
      } finally {
        await b.close();
      }
    },
  };
}

describe("the queue registry", () => {
  it("keeps one key per queue, and takes over the one-document registry of earlier releases", async () => {
    const a = app({});
    await a.edit(async (b) => {
      const legacy = resolveQueueConfig("legacy", { visibilityTimeout: "45s" });
      await b.kv.set("eddy", "queues", { legacy });
    });
    eddy = await startTestEddy(a.dir, { dataDir: a.dataDir });
    const res = await fetch(`${eddy.url}/v1/queues/fresh`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    const { queues } = await getJson<{ queues: { name: string; visibilityTimeoutMs: number }[] }>(
      `${eddy.url}/v1/queues`,
    );
    expect(queues.map((q) => q.name)).toEqual(["fresh", "legacy"]);
    expect(queues.find((q) => q.name === "legacy")?.visibilityTimeoutMs).toBe(45_000);
    const kv = eddy.engine.backend.kv;
    expect((await kv.list("eddy:queues", { limit: 10 })).map((e) => e.key)).toEqual(["fresh", "legacy"]);
    expect(await kv.get("eddy", "queues")).toBeUndefined();
    expect((await fetch(`${eddy.url}/v1/queues/legacy`, { method: "DELETE" })).status).toBe(204);
    expect((await kv.list("eddy:queues", { limit: 10 })).map((e) => e.key)).toEqual(["fresh"]);
  });
});

describe("the deployment state", () => {
  it("keeps one key per function, and a restart keeps an HTTP deploy recorded by an earlier release", async () => {
    const a = app({ "functions/greeter.ts": greeter("v1") });
    eddy = await startTestEddy(a.dir, { dataDir: a.dataDir, adminKey: KEY });
    const v1 = eddy.engine.function("greeter")!.version;
    const res = await fetch(`${eddy.url}/v1/deploy`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify(await deployBody({ "functions/greeter.ts": greeter("v2") })),
    });
    expect(res.status).toBe(200);
    const v2 = eddy.engine.function("greeter")!.version;
    expect(v2).not.toBe(v1);
    const keys = (await eddy.engine.backend.kv.list("eddy:deploy", { limit: 10 })).map((e) => e.key);
    expect(keys).toEqual(["fn/greeter", "folder", "rev"]);
    await eddy.close();
    eddy = undefined;

    // Put the same state back as the one document earlier releases wrote, and nothing else.
    await a.edit(async (b) => {
      const state = await new DeployStateStore(b.kv).read();
      expect(state.running).toEqual(["greeter"]);
      for (const key of keys) await b.kv.delete("eddy:deploy", key);
      await b.kv.set("eddy:deploy", "state", state);
    });
    eddy = await startTestEddy(a.dir, { dataDir: a.dataDir, adminKey: KEY });
    // The folder did not change since: the deploy over HTTP is what runs.
    expect(eddy.engine.function("greeter")!.version).toBe(v2);
    const view = await getJson<{ versions: { version: string; via: string }[] }>(
      `${eddy.url}/v1/functions/greeter`,
    );
    expect(view.versions.map((v) => [v.version, v.via])).toEqual([
      [v2, "api"],
      [v1, "folder"],
    ]);
    expect(await eddy.engine.backend.kv.get("eddy:deploy", "state")).toBeUndefined();
  });

  it("refuses a write over a state another process changed since it was read", async () => {
    const a = app({});
    await a.edit(async (b) => {
      const mine = new DeployStateStore(b.kv);
      const theirs = new DeployStateStore(b.kv);
      const state = await mine.read();
      await theirs.write({ ...(await theirs.read()), folder: ["other@1"] });
      await expect(mine.write({ ...state, folder: ["mine@1"] })).rejects.toThrow(
        /changed by another process/,
      );
      expect((await new DeployStateStore(b.kv).read()).folder).toEqual(["other@1"]);
    });
  });
});
