// Loading an app: a module that hangs at import is reported without holding up the others, and
// configurations are cached by version.
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { fnSource, startTestEddy, tempApp } from "./helpers.js";

const app = tempApp({
  // A debounce without maxWait resolves to maxWaitMs: Infinity, which JSON cannot hold.
  "functions/first.ts": fnSource("first", { type: ["a"] }, "", `debounce: { period: "1s" }`),
  "functions/hangs.ts": `for (;;) {}\nexport default 1;\n`,
  "functions/second.ts": fnSource(
    "second",
    { type: ["b"] },
    "",
    `isolation: "process", concurrency: { min: 1 }`,
  ),
});

afterAll(() => app.cleanup());

it("reports a module that never finishes loading, and loads the others", async () => {
  const dataDir = join(app.dir, "data");
  const eddy = await startTestEddy(app.dir, { loadTimeoutMs: 1_000, dataDir });
  try {
    expect(eddy.failures).toEqual([
      {
        file: "functions/hangs.ts",
        message: "functions/hangs.ts: the module did not finish loading within 1000 ms",
      },
    ]);
    expect(eddy.engine.functions().map((f) => f.name)).toEqual(["first", "second"]);
    // concurrency.min: one process sandbox is loaded and kept warm without any event.
    await expect.poll(() => eddy.engine.function("second")!.pool.warm, { timeout: 10_000 }).toBe(1);
    expect(eddy.engine.function("second")!.pool.kind).toBe("process");
    expect(eddy.engine.function("first")!.pool.warm).toBe(0);
  } finally {
    await eddy.close();
  }
  // The configurations read are kept by version: the next start reads them from the store.
  const again = await startTestEddy(app.dir, { loadTimeoutMs: 1_000, dataDir });
  try {
    const version = again.engine.function("first")!.version;
    const cached = await again.engine.inspectOptions().cache!.get(version);
    expect(cached).toMatchObject({ name: "first", debounce: { periodMs: 1000, maxWaitMs: Infinity } });
    expect(again.engine.function("first")!.config).toEqual(cached);
  } finally {
    await again.close();
  }
});
