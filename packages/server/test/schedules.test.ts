// Schedules on a manual clock: every tick is one timer the test advances to, so the ticks, the
// downtime of a restart and the missed-tick policy are exact, and nothing waits for the wall clock.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { ManualClock } from "@eddy/server/testing";
import { invocations, startTestEddy, tempApp, waitFor } from "./helpers.js";

const schedule = (name: string, cron: string, missed: string) => `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "${name}", triggers: [on.schedule("${cron}", { missed: "${missed}" })] },
  async (event, ctx) => { ctx.log.info("tick", { at: event.data.scheduledAt, missed: event.data.missed, type: event.type, id: event.id }); },
);
`;
const app = tempApp({
  "functions/every-second.ts": schedule("every-second", "* * * * * *", "skip"),
  "functions/catch-up.ts": schedule("catch-up", "* * * * * *", "runOnce"),
});
const dataDir = mkdtempSync(join(tmpdir(), "eddy-sched-"));
const clock = new ManualClock(Date.parse("2030-01-01T12:00:00.500Z"));
const at = (s: number) => `2030-01-01T12:00:${String(s).padStart(2, "0")}.000Z`;
let eddy: RunningEddy | undefined;

afterAll(async () => {
  await eddy?.close();
  app.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const runs = async (fn: string) =>
  (await invocations(eddy!.url, fn))
    .filter((i) => i.status === "succeeded")
    .map((i) => i.logs[0]!.fields as { at: string; missed: boolean; type: string })
    .sort((a, b) => a.at.localeCompare(b.at));
const ticks = async (fn: string) => (await runs(fn)).map((r) => r.at);

/** Advances to second `s` once both schedules armed its tick, and waits until both ran it. */
async function tick(s: number): Promise<void> {
  const time = Date.parse(at(s));
  await clock.whenArmed(time, 2);
  await clock.advanceTo(time);
  await waitFor(
    async () => (await ticks("every-second")).includes(at(s)) && (await ticks("catch-up")).includes(at(s)),
    `the ticks of ${at(s)}`,
  );
}

describe("schedules", () => {
  it("fires every tick once, as eddy.schedule.tick events", async () => {
    eddy = await startTestEddy(app.dir, { dataDir, clock });
    for (const s of [1, 2, 3]) await tick(s);
    expect(await ticks("every-second")).toEqual([at(1), at(2), at(3)]);
    expect((await runs("every-second"))[0]).toMatchObject({ type: "eddy.schedule.tick", missed: false });
  });

  it("across a restart: no tick twice; missed ticks skipped, or run once", async () => {
    await eddy!.close();
    // Down from 12:00:03 to 12:00:05.5: the ticks of seconds 4 and 5 pass while no node runs.
    await clock.advanceTo(Date.parse("2030-01-01T12:00:05.500Z"));
    eddy = await startTestEddy(app.dir, { dataDir, clock });
    // runOnce fires the latest missed tick (second 5) at start, marked missed; skip fires none.
    await waitFor(async () => (await ticks("catch-up")).includes(at(5)), "the missed tick");
    await tick(6);
    expect(await ticks("every-second")).toEqual([at(1), at(2), at(3), at(6)]);
    expect(await ticks("catch-up")).toEqual([at(1), at(2), at(3), at(5), at(6)]);
    expect((await runs("catch-up")).filter((r) => r.missed).map((r) => r.at)).toEqual([at(5)]);
    expect((await runs("every-second")).filter((r) => r.missed)).toEqual([]);
  });
});
