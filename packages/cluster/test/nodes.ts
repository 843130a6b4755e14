// Cluster nodes as real `eddy start --backend cluster` processes, an app for them, and queries on
// what they did (read from the cluster's PostgreSQL schema).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import type { EddyProcess } from "../../cli/test/helpers.js";
import { spawnEddy } from "../../cli/test/helpers.js";

/** Where a test cluster lives. */
export interface ClusterSpec {
  nats: string;
  postgres: string;
  prefix: string;
}

/**
 * An app with one function, `work`: sleeps `event.data.ms` (default 20) and logs the pid of the
 * node that ran it. Short timeout, so the lease (timeout + 10 s) is short too.
 */
export function workApp(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "eddy-cluster-app-"));
  mkdirSync(join(dir, "functions"));
  writeFileSync(
    join(dir, "functions", "work.ts"),
    `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "work", triggers: [on.event({ type: ["cluster.work"] })], concurrency: { max: 4 }, timeout: "2s",
    retries: { maxAttempts: 20, backoff: { initial: "50ms", max: "500ms" } } },
  async (event, ctx) => {
    const ms = (event.data as { ms?: number } | undefined)?.ms ?? 20;
    await new Promise((r) => setTimeout(r, ms));
    ctx.log.info("ran", { pid: process.pid });
  },
);
`,
  );
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts one node of `spec` serving `appDir`, with its own data folder (bundles), like another
 * machine; `env` adds to its environment (e.g. EDDY_ADMIN_KEY).
 */
export async function startNode(
  spec: ClusterSpec,
  appDir: string,
  env: Record<string, string> = {},
): Promise<EddyProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "eddy-node-"));
  const node = await spawnEddy(
    [
      "start",
      appDir,
      "--no-auth",
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--backend",
      "cluster",
      "--nats",
      spec.nats,
      "--postgres",
      spec.postgres,
      "--cluster-prefix",
      spec.prefix,
    ],
    { EDDY_LOG_LEVEL: "info", ...env },
    30_000,
  );
  node.child.once("exit", () => rmSync(dataDir, { recursive: true, force: true }));
  return node;
}

/** Events of type `cluster.work` with ids `<tag>-<i>`. */
export function workEvents(tag: string, n: number, ms = 20) {
  return Array.from({ length: n }, (_, i) => ({
    specversion: "1.0",
    id: `${tag}-${i}`,
    source: "/cluster-test",
    type: "cluster.work",
    data: { ms },
  }));
}

/** Publishes a batch; resolves the ids the node acknowledged (202), or [] if it refused or was unreachable. */
export async function publish(url: string, events: { id: string }[]): Promise<string[]> {
  try {
    const res = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(events),
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer();
    return res.status === 202 ? events.map((e) => e.id) : [];
  } catch {
    return [];
  }
}

/** Runs one query on the cluster's PostgreSQL, in its schema. */
export async function query<R extends pg.QueryResultRow>(spec: ClusterSpec, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: spec.postgres, options: `-c search_path=${spec.prefix}` });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

/** What the cluster's records say: per event id that succeeded, the pids of the nodes that ran it. */
export async function succeeded(spec: ClusterSpec): Promise<Map<string, number[]>> {
  const rows = await query<{ event_id: string; logs: string }>(
    spec,
    "SELECT event_id, logs FROM invocations WHERE fn = 'work' AND status = 'succeeded'",
  );
  const out = new Map<string, number[]>();
  for (const r of rows) {
    const pid = (JSON.parse(r.logs) as { fields?: { pid?: number } }[])[0]?.fields?.pid ?? 0;
    out.set(r.event_id, [...(out.get(r.event_id) ?? []), pid]);
  }
  return out;
}

/** Waits until every id in `ids` succeeded; fails naming how many did not, after `timeoutMs`. */
export async function waitAllSucceeded(
  spec: ClusterSpec,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, number[]>> {
  const deadline = Date.now() + timeoutMs;
  let done = new Map<string, number[]>();
  for (;;) {
    try {
      done = await succeeded(spec);
    } catch {
      // PostgreSQL may be restarting
    }
    const missing = ids.filter((id) => !done.has(id));
    if (missing.length === 0) return done;
    if (Date.now() > deadline) {
      throw new Error(
        `${missing.length} of ${ids.length} acknowledged events never ran, e.g. ${missing.slice(0, 5).join(", ")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
