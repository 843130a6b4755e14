import { mkdtempSync, rmSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { spawnEddy } from "./helpers.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-crash-"));
mkdirSync(join(dir, "functions"));
// Two subscribers of the same events; each takes a little time so that work is in flight at the kill.
for (const name of ["first", "second"]) {
  writeFileSync(
    join(dir, "functions", `${name}.ts`),
    `import { defineFunction, on } from "eddy";
export default defineFunction(
  { name: "${name}", triggers: [on.event({ type: ["crash.test"] })], concurrency: { max: 4 } },
  async () => { await new Promise((r) => setTimeout(r, 5)); },
);
`,
  );
}
let eddy: EddyProcess | undefined;

afterAll(async () => {
  await eddy?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function succeeded(url: string, fn: string): Promise<Set<string>> {
  const res = await fetch(`${url}/v1/invocations?function=${fn}&status=succeeded&limit=1000`);
  const body = (await res.json()) as { invocations: { eventId: string }[] };
  return new Set(body.invocations.map((i) => i.eventId));
}

it("runs every acknowledged event after the server is killed with SIGKILL right after the 202s", async () => {
  eddy = await spawnEddy(["start", dir, "--port", "0", "--no-auth"]);
  const accepted: string[] = [];
  for (let batch = 0; batch < 10; batch++) {
    const events = Array.from({ length: 30 }, (_, i) => ({
      specversion: "1.0",
      id: `crash-${batch}-${i}`,
      source: "/crash",
      type: "crash.test",
    }));
    const res = await fetch(`${eddy.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents-batch+json" },
      body: JSON.stringify(events),
    });
    expect(res.status).toBe(202);
    accepted.push(...events.map((e) => e.id));
  }
  await eddy.kill9();
  const before = eddy.output();

  eddy = await spawnEddy(["start", dir, "--port", "0", "--no-auth"]);
  for (const fn of ["first", "second"]) {
    const deadline = Date.now() + 20_000;
    let done = new Set<string>();
    while (Date.now() < deadline) {
      done = await succeeded(eddy.url, fn);
      if (accepted.every((id) => done.has(id))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const missing = accepted.filter((id) => !done.has(id));
    expect(missing, `${fn} never ran ${missing.length} acknowledged events\n${before}`).toEqual([]);
  }
});
