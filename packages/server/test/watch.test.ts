// `eddy dev` reloads: only changed functions are re-bundled, a broken file is reported while its
// previous version and every other function keep running.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { ReloadReport, RunningEddy } from "@eddy/server";
import { watchFunctions } from "@eddy/server";
import { fnSource, startTestEddy, tempApp, waitFor } from "./helpers.js";

const greeter = (greeting: string) =>
  `import { defineFunction, on } from "eddy";
import { punctuation } from "../lib/style.js";
export default defineFunction({ name: "greeter", triggers: [on.event({ type: ["greet"] })] }, async (event, ctx) => {
  ctx.log.info(${JSON.stringify(greeting)} + punctuation);
});
`;
const app = tempApp({
  "functions/greeter.ts": greeter("hello"),
  "functions/other.ts": fnSource("other", { type: ["other"] }),
  "lib/style.ts": `export const punctuation = "!";\n`,
});
let eddy: RunningEddy;
let watcher: ReturnType<typeof watchFunctions>;
const reports: ReloadReport[] = [];

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
  watcher = watchFunctions({
    dir: app.dir,
    bundleDir: eddy.bundleDir,
    engine: eddy.engine,
    deployer: eddy.deployer,
    onReload: (r) => reports.push(r),
    onError: (err) => {
      throw err;
    },
  });
  await watcher.ready;
});
afterAll(async () => {
  watcher?.close();
  await eddy?.close();
  app.cleanup();
});

const version = (name: string) => eddy.engine.function(name)?.version;

async function nextReport(change: () => void): Promise<ReloadReport> {
  const seen = reports.length;
  change();
  return waitFor(() => reports[seen], "a reload", 15_000);
}

it("re-bundles and swaps only the function that changed", async () => {
  const [greeterV1, otherV1] = [version("greeter"), version("other")];
  const report = await nextReport(() => writeFileSync(join(app.dir, "functions/greeter.ts"), greeter("hi")));
  expect(report.failures).toEqual([]);
  expect(report.changes).toEqual([
    { name: "greeter", change: "updated", previous: greeterV1, version: version("greeter") },
  ]);
  expect(version("greeter")).not.toBe(greeterV1);
  expect(version("other")).toBe(otherV1);
  // A benchmark target, not asserted tightly here (the machine is shared): under 500 ms.
  expect(report.ms).toBeLessThan(5_000);
});

it("follows imports: a change in a shared module reloads the functions that use it", async () => {
  const before = version("greeter");
  const report = await nextReport(() =>
    writeFileSync(join(app.dir, "lib/style.ts"), `export const punctuation = "?";\n`),
  );
  expect(report.changes.map((c) => c.name)).toEqual(["greeter"]);
  expect(version("greeter")).not.toBe(before);
});

it("reports a bundling error and keeps the previous version and the others running", async () => {
  const before = version("greeter");
  const report = await nextReport(() =>
    writeFileSync(join(app.dir, "functions/greeter.ts"), "export default {{{"),
  );
  expect(report.failures).toHaveLength(1);
  expect(report.failures[0]).toMatchObject({
    file: "functions/greeter.ts",
    message: expect.stringContaining("Expected"),
  });
  expect(version("greeter")).toBe(before);
  expect(version("other")).toBeDefined();

  const fixed = await nextReport(() =>
    writeFileSync(join(app.dir, "functions/greeter.ts"), greeter("welcome")),
  );
  expect(fixed.failures).toEqual([]);
  expect(fixed.changes.map((c) => c.name)).toEqual(["greeter"]);
});

it("reports a module that throws at load the same way", async () => {
  const before = version("other");
  const report = await nextReport(() =>
    writeFileSync(join(app.dir, "functions/other.ts"), `throw new Error("not today");\nexport default 1;\n`),
  );
  expect(report.failures[0]).toMatchObject({
    file: "functions/other.ts",
    message: expect.stringContaining("not today"),
  });
  expect(version("other")).toBe(before);
});

it("adds and removes functions with their files", async () => {
  const added = await nextReport(() =>
    writeFileSync(join(app.dir, "functions/third.ts"), fnSource("third", { type: ["3"] })),
  );
  expect(added.changes).toMatchObject([{ name: "third", change: "added" }]);
  const removed = await nextReport(() => rmSync(join(app.dir, "functions/third.ts")));
  expect(removed.changes).toMatchObject([{ name: "third", change: "removed" }]);
  expect(version("third")).toBeUndefined();
});
