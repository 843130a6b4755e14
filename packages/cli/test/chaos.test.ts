/**
 * Chaos: 10,000 events, two subscribers, the server killed with SIGKILL at random moments (at
 * least five times) while events are published and processed, and restarted each time.
 *
 * Subscriber A records its effect by appending the event id to a file: at-least-once, so every id
 * must be there, possibly more than once. Subscriber B has an idempotency key (10% of the events
 * share a key with another event): its effect is an event it emits, which is published only with
 * the ack of a successful attempt, so each key must have exactly one successful run and exactly
 * one effect. Afterwards no delivery may be left neither done nor dead-lettered.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { spawnEddy } from "./helpers.js";

const TOTAL = 10_000;
const BATCH = 200;
const MIN_KILLS = 5;

const dir = mkdtempSync(join(tmpdir(), "eddy-chaos-"));
const effectsA = join(dir, "effects-a.log");
mkdirSync(join(dir, "functions"));
writeFileSync(
  join(dir, "functions", "sub-a.ts"),
  `import { appendFileSync } from "node:fs";
import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "sub-a", triggers: [on.event({ type: ["chaos"] })], concurrency: { max: 4 } },
  async (event) => { appendFileSync(${JSON.stringify(effectsA)}, event.id + "\\n"); },
);
`,
);
writeFileSync(
  join(dir, "functions", "sub-b.ts"),
  `import { randomUUID } from "node:crypto";
import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "sub-b", triggers: [on.event({ type: ["chaos"] })], concurrency: { max: 4 }, idempotencyKey: "event.data.key" },
  async (event, ctx) => {
    // A random id: a second successful run for the same key would show as a second effect.
    await ctx.emit({ type: "chaos.effect", id: randomUUID(), data: { key: event.data.key } });
  },
);
`,
);

let eddy: EddyProcess | undefined;
afterAll(async () => {
  await eddy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const events = Array.from({ length: TOTAL }, (_, i) => ({
  specversion: "1.0",
  id: `chaos-${i}`,
  source: "/chaos",
  type: "chaos",
  // Every tenth event reuses the key of the event before it.
  data: { key: `k-${i % 10 === 9 ? i - 1 : i}` },
}));

async function publish(batch: unknown[]): Promise<boolean> {
  try {
    const res = await fetch(`${eddy!.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(batch),
    });
    return res.status === 202;
  } catch {
    return false; // the server is down: the producer sends the same batch again
  }
}

async function pending(): Promise<number | undefined> {
  try {
    let n = 0;
    for (const fn of ["sub-a", "sub-b"]) {
      const res = await fetch(`${eddy!.url}/v1/functions/${fn}`);
      const d = ((await res.json()) as { deliveries: { ready: number; leased: number } }).deliveries;
      n += d.ready + d.leased;
    }
    return n;
  } catch {
    return undefined;
  }
}

it("loses nothing and runs idempotent work once across repeated SIGKILLs", { timeout: 240_000 }, async () => {
  const start = () => spawnEddy(["start", dir, "--port", "0", "--no-auth"]);
  eddy = await start();
  const kills: string[] = [];
  let killing = true;
  const killer = (async () => {
    while (killing || kills.length < MIN_KILLS) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 1200));
      const at = `${kills.length + 1}: ${new Date().toISOString()}`;
      await eddy!.kill9();
      kills.push(at);
      eddy = await start();
    }
  })();

  let next = 0;
  while (next < TOTAL) {
    const batch = events.slice(next, next + BATCH);
    if (await publish(batch)) next += BATCH;
    else await new Promise((r) => setTimeout(r, 50));
  }
  // Keep killing while the backlog drains, until the minimum number of kills is reached.
  killing = false;
  await killer;

  const deadline = Date.now() + 120_000;
  let left: number | undefined;
  while (Date.now() < deadline) {
    left = await pending();
    if (left === 0) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(left, `deliveries still pending; kills: ${kills.join(", ")}`).toBe(0);
  await eddy!.stop();
  eddy = undefined;

  expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS);
  console.log(`chaos: ${TOTAL} events, ${kills.length} SIGKILLs (${kills.join("; ")})`);
  const db = new Database(join(dir, ".eddy", "eddy.db"), { readonly: true });
  try {
    const unfinished = db.prepare("SELECT count(*) FROM deliveries WHERE state < 2").pluck().get();
    const dead = db.prepare("SELECT count(*) FROM deliveries WHERE state = 2").pluck().get();
    expect({ unfinished, dead }).toEqual({ unfinished: 0, dead: 0 });

    // A: at least once per event.
    const seenA = new Set(readFileSync(effectsA, "utf8").split("\n").filter(Boolean));
    const missingA = events.filter((e) => !seenA.has(e.id)).map((e) => e.id);
    expect(missingA.slice(0, 10), `${missingA.length} events never reached sub-a`).toEqual([]);

    // B: exactly one successful run and one effect per key.
    const keys = new Set(events.map((e) => e.data.key));
    const keyOf = new Map(events.map((e) => [e.id, e.data.key]));
    const runs = new Map<string, number>();
    for (const id of db
      .prepare("SELECT event_id FROM invocations WHERE fn = 'sub-b' AND status = 'succeeded'")
      .pluck()
      .all() as string[]) {
      runs.set(keyOf.get(id)!, (runs.get(keyOf.get(id)!) ?? 0) + 1);
    }
    const effects = new Map<string, number>();
    for (const body of db
      .prepare("SELECT body FROM events WHERE type = 'chaos.effect'")
      .pluck()
      .all() as string[]) {
      const key = (JSON.parse(body) as { data: { key: string } }).data.key;
      effects.set(key, (effects.get(key) ?? 0) + 1);
    }
    const wrongRuns = [...keys].filter((k) => runs.get(k) !== 1);
    const wrongEffects = [...keys].filter((k) => effects.get(k) !== 1);
    expect(wrongRuns.slice(0, 10), `${wrongRuns.length} keys without exactly one successful run`).toEqual([]);
    expect(wrongEffects.slice(0, 10), `${wrongEffects.length} keys without exactly one effect`).toEqual([]);
    // Every event of B was handled: run, or skipped because its key had already succeeded.
    const handled = db
      .prepare(
        "SELECT count(DISTINCT event_id) FROM invocations WHERE fn = 'sub-b' AND status IN ('succeeded', 'skipped')",
      )
      .pluck()
      .get();
    expect(handled).toBe(TOTAL);
  } finally {
    db.close();
  }
});
