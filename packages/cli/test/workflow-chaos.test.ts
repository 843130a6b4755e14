/**
 * Workflow chaos: 1,000 runs of a 5-step workflow (a step, a sleep, a step, a wait for an event,
 * a step) while the server is killed with SIGKILL at least five times, at moments picked at random
 * along the progress of the steps, and restarted each time.
 *
 * Each step's body counts its own executions in a file outside Eddy (one file per run and step)
 * and returns the count it reached: the journaled result. A body that ran again after its result
 * was journaled would leave the file's count above the journaled one, so "count == journaled
 * result" for every step of every run proves that no journaled step's body ran again. A count
 * above 1 is a body that ran, died with the process before its result was journaled, and ran again
 * (at least once: the docs say so). Every run must end succeeded, and every wait must have been
 * resolved by its event, sent while the server was being killed.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import { waitFor } from "../../server/test/helpers.js";
import type { EddyProcess } from "./helpers.js";
import { spawnEddy } from "./helpers.js";

const RUNS = 1_000;
const STEPS = ["a", "b", "c"];
const MIN_KILLS = 5;

const dir = mkdtempSync(join(tmpdir(), "eddy-wf-chaos-"));
const effects = join(dir, "effects");
const progress = join(dir, "progress");
mkdirSync(effects);
mkdirSync(join(dir, "functions"));
writeFileSync(
  join(dir, "functions", "flow.ts"),
  `import { appendFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { defineWorkflow, on } from "eddy";
const note = (key, step) => {
  const file = join(${JSON.stringify(effects)}, key + "." + step);
  appendFileSync(file, "x");
  appendFileSync(${JSON.stringify(progress)}, "x");
  return statSync(file).size;
};
export default defineWorkflow(
  { name: "flow", triggers: [on.event({ type: ["flow.start"] })], concurrency: { max: 50 } },
  async (event, step) => {
    const key = event.data.key;
    const a = await step.run("a", () => note(key, "a"));
    await step.sleep("nap", "1s");
    const b = await step.run("b", () => note(key, "b"));
    const paid = await step.waitForEvent("paid", { type: "flow.paid", match: "data.key", timeout: "1h" });
    const c = await step.run("c", () => note(key, "c"));
    return { a, b, c, paid: paid ? paid.data.key : null };
  },
);
`,
);

let eddy: EddyProcess | undefined;
afterAll(async () => {
  await eddy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const keys = Array.from({ length: RUNS }, (_, i) => `k-${i}`);
const event = (type: string, key: string) => ({
  specversion: "1.0",
  id: `${type}-${key}`,
  source: "/chaos",
  type,
  data: { key },
});

/** Publishes a batch; false when the server is down (the producer sends it again). */
async function publish(batch: unknown[]): Promise<boolean> {
  try {
    const res = await fetch(`${eddy!.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    return res.status === 202;
  } catch {
    return false;
  }
}

/** Whether the server (maybe restarted on another port) answers. */
async function up(): Promise<boolean> {
  try {
    return (await fetch(`${eddy!.url}/healthz`)).ok;
  } catch {
    return false;
  }
}

async function publishAll(type: string): Promise<void> {
  for (let next = 0; next < RUNS;) {
    const batch = keys.slice(next, next + 100).map((k) => event(type, k));
    if (await publish(batch)) next += batch.length;
    else await waitFor(up, "the server to be back up", 60_000);
  }
}

/** Step bodies that ran so far (each also writes one byte to the progress file). */
function bodiesRun(): number {
  try {
    return statSync(progress).size;
  } catch {
    return 0;
  }
}

it(
  "every run ends, no journaled step runs again and no wait is lost across repeated SIGKILLs",
  { timeout: 600_000 },
  async () => {
    const start = () => spawnEddy(["start", dir, "--port", "0", "--no-auth"], {}, 60_000);
    eddy = await start();
    // Kill points: random moments along the 3,000 step bodies the runs take.
    const points = Array.from({ length: MIN_KILLS + 1 }, () => Math.floor(150 + Math.random() * 2_600)).sort(
      (x, y) => x - y,
    );
    const kills: string[] = [];
    const killer = (async () => {
      for (const at of points) {
        await waitFor(() => bodiesRun() >= at, `${at} step bodies to run`, 300_000);
        await eddy!.kill9();
        kills.push(`${kills.length + 1} after ${bodiesRun()} bodies`);
        eddy = await start();
      }
    })();
    await publishAll("flow.start");
    // The awaited events, while runs are at every step: some before their wait is reached.
    await publishAll("flow.paid");
    await killer;

    // The server holds its database: ask it, then read the database once it stopped.
    const succeeded = async () => {
      const res = await fetch(`${eddy!.url}/v1/runs?workflow=flow&status=succeeded&limit=${RUNS}`);
      return res.ok && ((await res.json()) as { runs: unknown[] }).runs.length === RUNS;
    };
    await waitFor(succeeded, `all ${RUNS} runs to succeed`, 300_000).catch(() => undefined);
    await eddy!.stop();
    eddy = undefined;
    const db = new Database(join(dir, ".eddy", "eddy.db"), { readonly: true });
    try {
      const statuses = db.prepare("SELECT status, count(*) AS n FROM runs GROUP BY status").all();
      expect(statuses, `kills: ${kills.join("; ")}`).toEqual([{ status: "succeeded", n: RUNS }]);
      expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);

      const outputs = db.prepare("SELECT event, output FROM runs").all() as {
        event: string;
        output: string;
      }[];
      const wrong: string[] = [];
      let again = 0;
      for (const r of outputs) {
        const key = (JSON.parse(r.event) as { data: { key: string } }).data.key;
        const out = JSON.parse(r.output) as Record<string, unknown>;
        if (out.paid !== key) wrong.push(`${key}: wait resolved with ${String(out.paid)}`);
        for (const s of STEPS) {
          const ran = statSync(join(effects, `${key}.${s}`)).size;
          if (out[s] !== ran) wrong.push(`${key}.${s}: journaled ${String(out[s])}, body ran ${ran} times`);
          if (ran > 1) again++;
        }
      }
      expect(wrong.slice(0, 10), `${wrong.length} wrong`).toEqual([]);
      console.log(
        `workflow chaos: ${RUNS} runs, ${kills.length} SIGKILLs (${kills.join("; ")}), ` +
          `${again} step bodies ran again after dying unjournaled`,
      );
    } finally {
      db.close();
    }
  },
);
