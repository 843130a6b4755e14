// Bundles check, when they load, that the sandbox's SDK has every name their SDK exported. The
// SDK's internal helpers moved to `eddy/internal`; bundles made before that (versions stored by
// an older server, an older `eddy deploy`) listed them too, and must still load and run.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { deployBody, fnSource, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const KEY = "test-admin-key-0123456789";
/** What `eddy` exported before `eddy/internal` split off, besides today's API. */
const FORMER_EXPORTS = [
  "PATTERN_LIMITS",
  "RESERVED_PATHS",
  "checkQueueName",
  "checkResolvedConfig",
  "isEddyFunction",
  "isRfc3339",
  "parseDuration",
  "patternComplexity",
  "resolveFunctionConfig",
  "uuidv7",
];

const app = tempApp({ "functions/.keep": "" });
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { adminKey: KEY });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

describe("a bundle made by an earlier SDK", () => {
  it("loads and runs although it checks for names the SDK no longer exports", async () => {
    const body = await deployBody({
      "functions/old.ts": fnSource("old", { type: ["old.ping"] }, "return 1;"),
    });
    const bundle = body.functions[0]!;
    const check = "for (const name of [";
    expect(bundle.code).toContain(check);
    bundle.code = bundle.code.replace(
      check,
      `${check}${FORMER_EXPORTS.map((n) => JSON.stringify(n)).join(", ")}, `,
    );

    const deployed = await post(`${eddy.url}/v1/deploy`, body, {
      "content-type": "application/json",
      authorization: `Bearer ${KEY}`,
    });
    expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);

    const sent = await post(`${eddy.url}/v1/events`, {
      specversion: "1.0",
      id: "p-1",
      source: "/t",
      type: "old.ping",
    });
    expect(sent.status).toBe(202);
    const run = await waitFor(
      async () => (await invocations(eddy.url, "old")).find((i) => i.eventId === "p-1"),
      "the old bundle to run",
    );
    expect(run).toMatchObject({ status: "succeeded", outcome: "ack" });
  });
});
