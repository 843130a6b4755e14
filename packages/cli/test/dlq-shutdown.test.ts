import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { runEddy, spawnEddy } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-cli-dlq-"));
mkdirSync(join(dir, "functions"));
writeFileSync(
  join(dir, "functions", "refuses.ts"),
  `import { defineFunction, on, NonRetriableError } from "eddy";
export default defineFunction({ name: "refuses", triggers: [on.event({ type: ["refuse"] })] },
  async (event) => { throw new NonRetriableError("no " + event.id); });
`,
);
writeFileSync(
  join(dir, "functions", "slow.ts"),
  `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "slow", triggers: [on.event({ type: ["slow"] })], timeout: "1m" },
  async (event, ctx) => { await new Promise((r) => setTimeout(r, 1500)); ctx.log.info("finished", { id: event.id }); });
`,
);
let eddy: EddyProcess | undefined;

beforeAll(async () => {
  eddy = await spawnEddy(["start", dir, "--port", "0", "--no-auth"]);
});
afterAll(async () => {
  await eddy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const send = async (type: string, id: string) => {
  const r = await runEddy(["send", type, "--id", id, "--url", eddy!.url]);
  expect(r.code, r.out).toBe(0);
};

async function until<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("eddy dlq", () => {
  it("lists counts and dead letters, shows one, redrives and purges", async () => {
    await send("refuse", "r-1");
    await send("refuse", "r-2");
    const counts = await until(async () => {
      const r = await runEddy(["dlq", "ls", "--url", eddy!.url]);
      return /2\tfunction refuses/.test(r.out) ? r.out : undefined;
    }, "two dead letters");
    expect(counts).toContain("function refuses");

    const ls = await runEddy(["dlq", "ls", "refuses", "--url", eddy!.url]);
    const lines = ls.out.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/\trefuse\tr-1\tNonRetriableError: no r-1$/);
    const id = lines[0]!.split("\t")[0]!;

    const show = await runEddy(["dlq", "show", "refuses", id, "--url", eddy!.url]);
    const shown = JSON.parse(show.out) as { event: { id: string }; history: { status: string }[] };
    expect(shown.event.id).toBe("r-1");
    expect(shown.history.map((h) => h.status)).toEqual(["failed"]);

    const noSelection = await runEddy(["dlq", "redrive", "refuses", "--url", eddy!.url]);
    expect(noSelection.code).toBe(1);
    expect(noSelection.out).toMatch(/--all/);

    const redrive = await runEddy(["dlq", "redrive", "refuses", "--id", id, "--url", eddy!.url]);
    expect(redrive.out.trim()).toBe("redriven: 1");
    // It fails again (NonRetriable) and is back, with two attempts on record.
    await until(async () => {
      const r = await runEddy(["dlq", "show", "refuses", id, "--url", eddy!.url]);
      const h = r.code === 0 ? (JSON.parse(r.out) as { history: unknown[] }).history : [];
      return h.length === 2 ? h : undefined;
    }, "the redriven delivery to fail again");

    const purge = await runEddy(["dlq", "purge", "refuses", "--all", "--url", eddy!.url]);
    expect(purge.out.trim()).toBe("purged: 2");
    const empty = await runEddy(["dlq", "ls", "refuses", "--url", eddy!.url]);
    expect(empty.out.trim()).toBe("no dead letters for refuses");
  });
});

describe("shutdown", () => {
  it("SIGTERM finishes the attempt in flight before exiting, and nothing runs twice", async () => {
    await send("slow", "s-1");
    await until(async () => {
      const res = await fetch(`${eddy!.url}/v1/deliveries?state=leased&function=slow`);
      const body = (await res.json()) as { deliveries: unknown[] };
      return body.deliveries.length === 1 ? true : undefined;
    }, "the slow attempt to start");
    const stopped = Date.now();
    await eddy!.stop(20_000);
    expect(Date.now() - stopped).toBeGreaterThan(500); // it waited for the attempt

    eddy = await spawnEddy(["start", dir, "--port", "0", "--no-auth"]);
    await new Promise((r) => setTimeout(r, 500));
    const res = await fetch(`${eddy.url}/v1/invocations?function=slow`);
    const list = (await res.json()) as { invocations: { status: string; eventId: string }[] };
    expect(list.invocations.map((i) => [i.eventId, i.status])).toEqual([["s-1", "succeeded"]]);
  });
});
