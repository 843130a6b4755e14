// Shared by the workflow tests: a workflow module's source, and waiting for a run to get somewhere.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { RunSummary, RunView } from "eddy";
import type { RunningEddy } from "@eddy/server";
import type { ManualClock } from "@eddy/server/testing";
import { getJson, post, startTestEddy, waitFor } from "./helpers.js";

/**
 * One Eddy for a workflow test file: started on `app` with a data folder of its own before the
 * file's tests, closed after them, with `app`, `tmp` and the data folder removed. A test that
 * restarts it assigns `eddy` (on the same `dataDir`).
 */
export function serveWorkflows(
  app: { dir: string; cleanup: () => void },
  tmp: string,
  clock: ManualClock | undefined,
): { eddy: RunningEddy; readonly dataDir: string } {
  const server = {
    eddy: undefined as unknown as RunningEddy,
    dataDir: mkdtempSync(join(tmpdir(), "eddy-wf-data-")),
  };
  beforeAll(async () => {
    server.eddy = await startTestEddy(app.dir, { dataDir: server.dataDir, clock });
  });
  afterAll(async () => {
    await (server.eddy as RunningEddy | undefined)?.close();
    app.cleanup();
    rmSync(tmp, { recursive: true, force: true });
    rmSync(server.dataDir, { recursive: true, force: true });
  });
  return server;
}

/** A workflow module: `body` is the handler's (it has event, step, ctx, and fs's appendFileSync/readFileSync/existsSync). */
export function workflowSource(name: string, type: string, body: string, options = ""): string {
  return `import { defineWorkflow, on, NonRetriableError, RetryAfterError } from "eddy";
import { appendFileSync, readFileSync, existsSync } from "node:fs";
export default defineWorkflow(
  { name: ${JSON.stringify(name)}, triggers: [on.event({ type: [${JSON.stringify(type)}] })] ${options ? ", " + options : ""} },
  async (event, step, ctx) => { ${body} },
);
`;
}

/** Lines of a side-effect file the functions append to (outside Eddy). */
export function lines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/** Sends one event; resolves once it is durable. */
export async function send(url: string, type: string, data: unknown, id?: string): Promise<void> {
  const r = await post(`${url}/v1/events`, {
    specversion: "1.0",
    id: id ?? `${type}-${Math.random().toString(36).slice(2)}`,
    source: "test",
    type,
    data,
  });
  if (r.status !== 202) throw new Error(`send: ${r.status} ${JSON.stringify(r.body)}`);
}

/** The runs of a workflow, newest first. */
export async function runsOf(url: string, workflow: string): Promise<RunSummary[]> {
  return (await getJson<{ runs: RunSummary[] }>(`${url}/v1/runs?workflow=${workflow}`)).runs;
}

/**
 * Waits until the workflow has `count` runs (its trigger deliveries start them asynchronously) and
 * the newest has `status`; resolves that run.
 */
export async function waitForRun(
  url: string,
  workflow: string,
  status: string,
  count = 1,
  timeoutMs = 15_000,
): Promise<RunView> {
  return waitFor(
    async () => {
      const runs = await runsOf(url, workflow);
      const r = runs[0];
      return runs.length >= count && r?.status === status && getJson<RunView>(`${url}/v1/runs/${r.id}`);
    },
    `a run of ${workflow} ${status}`,
    timeoutMs,
  );
}
