import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
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
let eddy: RunningEddy | undefined;

afterAll(async () => {
  await eddy?.close();
  app.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

const ticks = async (url: string, fn: string) =>
  (await invocations(url, fn))
    .filter((i) => i.status === "succeeded")
    .map((i) => (i.logs[0]!.fields as { at: string }).at)
    .sort();

describe("schedules", () => {
  it("fires every tick once, as eddy.schedule.tick events", async () => {
    eddy = await startTestEddy(app.dir, { dataDir });
    const seen = await waitFor(async () => {
      const t = await ticks(eddy!.url, "every-second");
      return t.length >= 3 && t;
    }, "three ticks");
    expect(new Set(seen).size).toBe(seen.length);
    for (let i = 1; i < seen.length; i++) expect(Date.parse(seen[i]!) - Date.parse(seen[i - 1]!)).toBe(1000);
    const [inv] = await invocations(eddy.url, "every-second");
    expect(inv!.logs[0]!.fields).toMatchObject({ type: "eddy.schedule.tick" });
  });

  it("across a restart: no tick twice; missed ticks skipped, or run once", async () => {
    const before = await ticks(eddy!.url, "every-second");
    const catchUpBefore = await ticks(eddy!.url, "catch-up");
    await eddy!.close();
    const down = Date.now();
    await new Promise((r) => setTimeout(r, 2_500));
    const restarting = Date.now();
    eddy = await startTestEddy(app.dir, { dataDir });
    const url = eddy.url;
    const after = await waitFor(async () => {
      const t = await ticks(url, "every-second");
      return t.length > before.length && (await ticks(url, "catch-up")).length > catchUpBefore.length && t;
    }, "both schedules to tick after the restart");
    expect(new Set(after).size).toBe(after.length);
    // No tick of the downtime ran (each tick's time is the cron time, not when it ran).
    const skipped = after.filter((t) => Date.parse(t) > down + 1000 && Date.parse(t) < restarting);
    expect(skipped).toEqual([]);
    expect(after.length).toBeGreaterThan(before.length);

    const catchUp = await ticks(eddy.url, "catch-up");
    expect(new Set(catchUp).size).toBe(catchUp.length);
    expect(catchUp.length).toBeGreaterThan(catchUpBefore.length);
    // Two or three ticks were missed while down; runOnce fires only the latest of them, marked missed.
    const missed = (await invocations(eddy.url, "catch-up")).filter(
      (i) => (i.logs[0]?.fields as { missed?: boolean } | undefined)?.missed === true,
    );
    expect(missed).toHaveLength(1);
    const skippedToo = (await invocations(eddy.url, "every-second")).filter(
      (i) => (i.logs[0]?.fields as { missed?: boolean } | undefined)?.missed === true,
    );
    expect(skippedToo).toEqual([]);
  });
});
