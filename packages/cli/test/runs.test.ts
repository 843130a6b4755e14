import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunView } from "eddy";
import type { EddyProcess } from "./helpers.js";
import { runEddy, spawnEddy } from "./helpers.js";
import { waitFor } from "../../server/test/helpers.js";

// `eddy runs` against a real server: a run that fails until a file outside Eddy exists (listed,
// shown, retried), and one that sleeps for an hour (cancelled).
const dir = mkdtempSync(join(tmpdir(), "eddy-cli-runs-"));
const fixed = join(dir, "fixed");
mkdirSync(join(dir, "functions"));
writeFileSync(
  join(dir, "functions", "flaky.ts"),
  `import { defineWorkflow, on, NonRetriableError } from "eddy";
import { existsSync } from "node:fs";
export default defineWorkflow({ name: "flaky", triggers: [on.event({ type: ["flaky.go"] })] }, async (event, step) => {
  const one = await step.run("one", () => 1);
  const two = await step.run("two", () => {
    if (!existsSync(${JSON.stringify(fixed)})) throw new NonRetriableError("not fixed yet");
    return 2;
  });
  return one + two;
});
`,
);
writeFileSync(
  join(dir, "functions", "sleepy.ts"),
  `import { defineWorkflow, on } from "eddy";
export default defineWorkflow({ name: "sleepy", triggers: [on.event({ type: ["sleepy.go"] })] }, async (event, step) => {
  await step.sleep("nap", "1h");
});
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

const runs = (...args: string[]) => runEddy(["runs", ...args, "--url", eddy!.url]);

/** Starts a run over HTTP; resolves its id. */
async function start(workflow: string): Promise<string> {
  const res = await fetch(`${eddy!.url}/v1/workflows/${workflow}/runs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Waits until the run has `status` (the server runs it on its own). */
function until(id: string, status: string): Promise<RunView> {
  return waitFor(
    async () => {
      const run = (await (await fetch(`${eddy!.url}/v1/runs/${encodeURIComponent(id)}`)).json()) as RunView;
      return run.status === status && run;
    },
    `run ${id} to be ${status}`,
    15_000,
  );
}

describe("eddy runs", () => {
  it("lists and shows a failed run, then retries it from its failed step", async () => {
    const id = await start("flaky");
    await until(id, "failed");

    const ls = await runs("ls", "--workflow", "flaky", "--status", "failed");
    expect(ls.code, ls.out).toBe(0);
    expect(ls.out.split("\n")[0]).toMatch(new RegExp(`^${id.replace(/\./g, "\\.")}\tflaky\tfailed\t`));

    const show = await runs("show", id);
    expect(show.code, show.out).toBe(0);
    expect(show.out).toContain("status    failed");
    expect(show.out).toMatch(/ {2}one\trun\tdone\tattempts 1/);
    expect(show.out).toMatch(/ {2}two\trun\tfailed\tattempts 1\t\d+ B\tNonRetriableError: not fixed yet/);
    expect(show.out).toContain("error     NonRetriableError EDDY_NON_RETRIABLE: not fixed yet");
    const json = await runs("show", id, "--json");
    expect((JSON.parse(json.out) as RunView).steps).toHaveLength(2);

    writeFileSync(fixed, "");
    const retry = await runs("retry", id);
    expect(retry.code, retry.out).toBe(0);
    expect(retry.out).toContain(`retrying ${id}`);
    const done = await until(id, "succeeded");
    expect(done.output).toBe(3);

    const again = await runs("retry", id);
    expect(again.code).toBe(1);
    expect(again.out).toMatch(/refused \(409\): run .* is succeeded: only a failed run is retried/);
    const none = await runs("show", "no-such-run");
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/refused \(404\)/);
  });

  it("cancels a sleeping run, once", async () => {
    const id = await start("sleepy");
    await until(id, "sleeping");
    const cancel = await runs("cancel", id);
    expect(cancel.code, cancel.out).toBe(0);
    expect(cancel.out).toBe(`cancelled ${id}\n`);
    await until(id, "cancelled");
    const twice = await runs("cancel", id);
    expect(twice.code).toBe(1);
    expect(twice.out).toMatch(/refused \(409\)/);
  });

  it("refuses a status it does not know, and says when there are no runs", async () => {
    const bad = await runs("ls", "--status", "asleep");
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("--status is one of running, sleeping");
    const empty = await runs("ls", "--workflow", "nobody");
    expect(empty.out).toBe("no runs\n");
  });
});
