// Lambda-style handlers run unchanged: `export const handler` beside `export const config`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

const config = (type: string, extra = "") =>
  `export const config = { compat: "aws", triggers: [on.event({ type: [${JSON.stringify(type)}] })], retries: { maxAttempts: 1 }${extra} };`;

const app = tempApp({
  // An async handler, as written for Lambda: console.log, the EventBridge event, the context.
  "functions/async-handler.ts": `import { on } from "eddy";
${config("order.paid", `, name: "lambda-async", memoryMb: 64`)}
export const handler = async (event, context) => {
  console.log("got", JSON.stringify(event));
  console.log("context", JSON.stringify({
    functionName: context.functionName,
    functionVersion: context.functionVersion,
    awsRequestId: context.awsRequestId,
    memoryLimitInMB: context.memoryLimitInMB,
    invokedFunctionArn: context.invokedFunctionArn,
    remaining: context.getRemainingTimeInMillis(),
  }));
  if (event.detail.fail) throw new Error("payment declined");
  return { statusCode: 200 };
};
`,
  // A callback-style handler (three parameters), as older Lambda code is.
  "functions/callback-handler.js": `import { on } from "eddy";
${config("callback.test", `, name: "lambda-callback"`)}
export function handler(event, context, callback) {
  setTimeout(() => (event.detail.fail ? callback(new Error("callback failure")) : callback(null, "done")), 5);
}
`,
  // A plain JavaScript Lambda module kept byte for byte elsewhere, re-exported with its config.
  "lib/legacy.js": `export const handler = async (event) => { console.log("legacy", event["detail-type"]); };\n`,
  "functions/legacy.js": `import { on } from "eddy";
export { handler } from "../lib/legacy.js";
${config("legacy.test", `, name: "legacy"`)}
`,
  "functions/no-config.js": `export const handler = async () => {};\n`,
  "functions/no-compat.js": `export const config = { triggers: [] };\nexport const handler = async () => {};\n`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { region: "eu-local-1" });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

async function run(fn: string, event: Record<string, unknown>) {
  const res = await post(`${eddy.url}/v1/events`, { specversion: "1.0", source: "/shop", ...event });
  expect(res.status).toBe(202);
  return waitFor(
    async () => (await invocations(eddy.url, fn)).find((i) => i.eventId === event.id),
    `${fn} to run ${String(event.id)}`,
  );
}

describe('compat: "aws"', () => {
  it("hands the event in EventBridge's shape and a Lambda context; the return value is success", async () => {
    const inv = await run("lambda-async", {
      id: "o-1",
      type: "order.paid",
      subject: "orders/o-1",
      time: "2026-01-02T03:04:05Z",
      data: { orderId: "o-1" },
    });
    expect(inv).toMatchObject({ status: "succeeded", outcome: "ack" });
    expect(JSON.parse(inv.logs[0]!.msg.slice("got ".length))).toEqual({
      version: "0",
      id: "o-1",
      "detail-type": "order.paid",
      source: "/shop",
      account: "000000000000",
      time: "2026-01-02T03:04:05Z",
      region: "eu-local-1",
      resources: ["orders/o-1"],
      detail: { orderId: "o-1" },
    });
    const context = JSON.parse(inv.logs[1]!.msg.slice("context ".length)) as Record<string, unknown>;
    expect(context).toMatchObject({
      functionName: "lambda-async",
      functionVersion: eddy.engine.function("lambda-async")!.version,
      awsRequestId: inv.id,
      memoryLimitInMB: "64",
      invokedFunctionArn: "arn:aws:lambda:eu-local-1:000000000000:function:lambda-async",
    });
    expect(context.remaining).toBeGreaterThan(25_000);
    expect(context.remaining).toBeLessThanOrEqual(30_000);
  });

  it("a thrown error fails the attempt, as its retry policy says", async () => {
    const inv = await run("lambda-async", { id: "o-2", type: "order.paid", data: { fail: true } });
    expect(inv).toMatchObject({ status: "failed", outcome: "dead", error: { message: "payment declined" } });
  });

  it("runs callback-style handlers to their callback", async () => {
    expect(await run("lambda-callback", { id: "cb-1", type: "callback.test", data: {} })).toMatchObject({
      status: "succeeded",
    });
    expect(
      await run("lambda-callback", { id: "cb-2", type: "callback.test", data: { fail: true } }),
    ).toMatchObject({
      status: "failed",
      error: { message: "callback failure" },
    });
  });

  it("runs an unchanged module re-exported beside its config", async () => {
    const inv = await run("legacy", { id: "l-1", type: "legacy.test" });
    expect(inv.logs.map((l) => l.msg)).toEqual(["legacy legacy.test"]);
  });

  it("refuses a Lambda-style module without config or without compat, naming the fix", () => {
    const byFile = Object.fromEntries(eddy.failures.map((f) => [f.file, f.message]));
    expect(byFile["functions/no-config.js"]).toContain('must also export config = { compat: "aws"');
    expect(byFile["functions/no-compat.js"]).toContain('config.compat must be "aws"');
    expect(eddy.failures).toHaveLength(2);
  });
});
