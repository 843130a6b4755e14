// How a process follows deploys made by others on the same storage (cluster nodes): on the
// broadcast, and, when the broadcast is lost, on the next poll of the deployment state's revision.
// Two DeployStateStores over one real store stand for two processes; the bus is one that delivers
// what the test hands it, or loses everything.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLogger, openEmbeddedBackend } from "@eddy/server";
import type { Broadcast } from "../src/backends/types.js";
import { DeployStateStore } from "../src/deploy/state.js";
import { DEPLOYED, DeploySync } from "../src/deploy/sync.js";
import { waitFor } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-deploy-sync-"));
const backend = openEmbeddedBackend({ path: join(dir, "eddy.db") });
const log = createLogger({ level: "silent" });
afterAll(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Another process deploys: writes the state over the one it read. */
async function deployElsewhere(): Promise<void> {
  const other = new DeployStateStore(backend.kv);
  const state = await other.read();
  state.running = [...state.running, `fn-${state.running.length}`];
  await other.write(state);
}

function follower(bus: Broadcast) {
  let reconciled = 0;
  const sync = new DeploySync({
    broadcast: bus,
    store: new DeployStateStore(backend.kv),
    reconcile: () => Promise.resolve(void reconciled++),
    log,
    pollMs: 10,
  });
  return { sync, reconciled: () => reconciled };
}

it("follows a change it did not hear of at its next poll of the revision", async () => {
  const lossy = { send: () => undefined, listen: () => () => undefined };
  const f = follower(lossy);
  f.sync.start();
  // At start it looks once, whatever the revision.
  await waitFor(() => f.reconciled() === 1, "the first look");
  await deployElsewhere();
  await waitFor(() => f.reconciled() === 2, "the change to be followed without a broadcast");
  await f.sync.close();
});

it("follows a broadcast at once, and stops listening when closed", async () => {
  const listeners = new Map<string, (m: unknown) => void>();
  const bus: Broadcast = {
    send: () => undefined,
    listen: (topic, l) => {
      listeners.set(topic, l);
      return () => listeners.delete(topic);
    },
  };
  const f = follower(bus);
  f.sync.start();
  await waitFor(() => f.reconciled() === 1, "the first look");
  listeners.get(DEPLOYED)!({});
  await waitFor(() => f.reconciled() === 2, "the broadcast to be followed");
  await f.sync.close();
  expect(listeners.has(DEPLOYED)).toBe(false);
});
