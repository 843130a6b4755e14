// Pattern cost over real HTTP: a pattern over the complexity limit is refused by the dry run and
// by a deploy, and a dry run whose pattern × event would hold the event loop is refused before
// it runs, while the server keeps answering.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PATTERN_LIMITS } from "eddy/internal";
import type { RunningEddy } from "@eddy/server";
import { bundleFunctions } from "@eddy/server";
import { post, startTestEddy, tempApp } from "./helpers.js";

const KEY = "test-admin-key-0123456789";
const JSON_HEADERS = { "content-type": "application/json" };
const app = tempApp({});
let eddy: RunningEddy;

/** `n` numeric ranges on one field: complexity n + 2. */
const ranges = (n: number) => ({
  data: { x: Array.from({ length: n }, (_, i) => ({ numeric: [">", i, "<", i + 0.5] })) },
});

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { adminKey: KEY });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

describe("pattern complexity", () => {
  it("refuses a dry run of a pattern over the limit (9,000 numeric ranges) with 400", async () => {
    const res = await post(
      `${eddy.url}/v1/patterns/test`,
      { pattern: ranges(9_000), event: { data: { x: 1 } } },
      JSON_HEADERS,
    );
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("EDDY_INVALID_PATTERN");
    expect(res.body.detail).toContain(`over the limit of ${PATTERN_LIMITS.maxComplexity}`);
  });

  it("takes a pattern at the limit", async () => {
    const res = await post(
      `${eddy.url}/v1/patterns/test`,
      { pattern: ranges(PATTERN_LIMITS.maxComplexity - 2), event: { data: { x: 7.25 } } },
      JSON_HEADERS,
    );
    expect(res).toMatchObject({ status: 200, body: { matches: true } });
  });

  it("refuses a deploy whose trigger is over the limit, naming the file", async () => {
    const src = tempApp({
      "functions/greedy.ts": `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "greedy", triggers: [on.event(${JSON.stringify(ranges(1_000))})] }, async () => {});`,
    });
    try {
      const { bundles } = await bundleFunctions(
        src.dir,
        [join(src.dir, "functions/greedy.ts")],
        join(src.dir, "out"),
      );
      const functions = bundles.map((b) => ({ file: b.file, code: readFileSync(b.path, "utf8") }));
      const res = await post(
        `${eddy.url}/v1/deploy`,
        { functions },
        { ...JSON_HEADERS, authorization: `Bearer ${KEY}` },
      );
      expect(res.status).toBe(422);
      expect(res.body.code).toBe("EDDY_DEPLOY_FAILED");
      expect(JSON.stringify(res.body.errors)).toContain("too complex");
    } finally {
      src.cleanup();
    }
  });

  it("refuses a dry run whose pattern × event is over the budget, before matching", async () => {
    const event = { data: { x: Array.from({ length: 200_000 }, () => -1) } };
    const res = await post(
      `${eddy.url}/v1/patterns/test`,
      { pattern: ranges(PATTERN_LIMITS.maxComplexity - 2), event },
      JSON_HEADERS,
    );
    expect(res.status).toBe(422);
    expect(res.type).toContain("application/problem+json");
    expect(res.body.code).toBe("EDDY_PATTERN_TEST_TOO_COSTLY");
    // A cheap pattern over the same event still runs.
    const cheap = await post(
      `${eddy.url}/v1/patterns/test`,
      { pattern: { data: { x: [-1] } }, event },
      JSON_HEADERS,
    );
    expect(cheap).toMatchObject({ status: 200, body: { matches: true } });
  });

  it("refuses a dry run of an event nested deeper than matching may recurse", async () => {
    const deep = `${"[".repeat(5_000)}1${"]".repeat(5_000)}`;
    const res = await post(
      `${eddy.url}/v1/patterns/test`,
      `{ "pattern": { "data": [1] }, "event": { "data": ${deep} } }`,
      JSON_HEADERS,
    );
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("EDDY_PATTERN_TEST_TOO_COSTLY");
  });
});
