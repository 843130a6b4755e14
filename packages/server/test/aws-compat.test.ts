// Lambda-style handlers run unchanged: `export const handler` beside `export const config`.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { getJson, invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";

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
  // Lambda code reads its configuration from process.env, at module scope too.
  "functions/env-reader.js": `import { on } from "eddy";
const TABLE = process.env.TABLE_NAME.toUpperCase();
${config("env.test", `, name: "env-reader", memoryMb: 96`)}
export const handler = async () => {
  const e = process.env;
  console.log(JSON.stringify({ TABLE, table: e.TABLE_NAME, name: e.AWS_LAMBDA_FUNCTION_NAME, region: e.AWS_REGION,
    defaultRegion: e.AWS_DEFAULT_REGION, memory: e.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, logGroup: e.AWS_LAMBDA_LOG_GROUP_NAME }));
};
`,
  // A Lambda SQS consumer: one record per invocation.
  "functions/sqs-one.js": `import { on } from "eddy";
export const config = { compat: "aws", name: "sqs-one", triggers: [on.queue("compat-jobs")], retries: { maxAttempts: 2, backoff: { initial: "10ms" } } };
export const handler = async (event) => {
  console.log(JSON.stringify(event));
  const [record] = event.Records;
  const body = JSON.parse(record.body);
  return { batchItemFailures: body.fail ? [{ itemIdentifier: record.messageId }] : [] };
};
`,
  // A Lambda SQS consumer of batches, answering with partial batch failures.
  "functions/sqs-batch.js": `import { on } from "eddy";
export const config = { compat: "aws", name: "sqs-batch", triggers: [on.queue("compat-batch", { batchSize: 3, batchWindow: "100ms" })], retries: { maxAttempts: 2, backoff: { initial: "10ms" } } };
export const handler = async (event) => ({
  batchItemFailures: event.Records.filter((r) => r.body.includes("bad")).map((r) => ({ itemIdentifier: r.messageId })),
});
`,
  "functions/no-config.js": `export const handler = async () => {};\n`,
  "functions/no-compat.js": `export const config = { triggers: [] };\nexport const handler = async () => {};\n`,
});
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { region: "eu-local-1", env: { TABLE_NAME: "tbl" } });
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

describe('compat: "aws" as Lambda sets it up', () => {
  it("gives the handler its env, and Lambda's variables, as process.env (at module scope too)", async () => {
    const inv = await run("env-reader", { id: "env-1", type: "env.test" });
    expect(inv).toMatchObject({ status: "succeeded" });
    expect(JSON.parse(inv.logs[0]!.msg)).toEqual({
      TABLE: "TBL",
      table: "tbl", // short: values of 6 characters or more are masked in logs, as ctx.env's
      name: "env-reader",
      region: "eu-local-1",
      defaultRegion: "eu-local-1",
      memory: "96",
      logGroup: "/eddy/functions/env-reader",
    });
  });

  const sendMessages = async (queue: string, messages: unknown[]) => {
    const res = await post(
      `${eddy.url}/v1/queues/${queue}/messages`,
      { messages },
      {
        "content-type": "application/json",
      },
    );
    expect(res.status).toBe(202);
    return (res.body.results as { messageId: string }[]).map((r) => r.messageId);
  };

  it("hands an on.queue handler SQS's event; batchItemFailures naming its message fails the attempt", async () => {
    const [ok, bad] = await sendMessages("compat-jobs", [{ body: { n: 1 } }, { body: { fail: true } }]);
    const done = await waitFor(async () => {
      const all = await invocations(eddy.url, "sqs-one");
      const okRun = all.find((i) => i.eventId === ok);
      const badRuns = all.filter((i) => i.eventId === bad);
      return okRun && badRuns.length === 2 && { okRun, badRuns };
    }, "sqs-one to run both messages");
    expect(done.okRun).toMatchObject({ status: "succeeded", outcome: "ack" });
    const event = JSON.parse(done.okRun.logs[0]!.msg) as { Records: Record<string, unknown>[] };
    expect(event.Records).toHaveLength(1);
    const body = JSON.stringify({ n: 1 });
    expect(event.Records[0]).toEqual({
      messageId: ok,
      receiptHandle: expect.stringMatching(/~/),
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: expect.stringMatching(/^\d{13}$/),
        SenderId: "000000000000",
        ApproximateFirstReceiveTimestamp: expect.stringMatching(/^\d{13}$/),
      },
      messageAttributes: {},
      md5OfBody: createHash("md5").update(body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-local-1:000000000000:compat-jobs",
      awsRegion: "eu-local-1",
    });
    expect(done.badRuns.map((i) => [i.attempt, i.status, i.error?.name]).sort()).toEqual([
      [1, "failed", "BatchItemFailedError"],
      [2, "failed", "BatchItemFailedError"],
    ]);
    const retried = JSON.parse(done.badRuns.find((i) => i.attempt === 2)!.logs[0]!.msg) as {
      Records: { attributes: { ApproximateReceiveCount: string } }[];
    };
    expect(retried.Records[0]!.attributes.ApproximateReceiveCount).toBe("2");
  });

  it("retries only the items a batch handler names in batchItemFailures", async () => {
    const ids = await sendMessages("compat-batch", [
      { body: "good-1" },
      { body: "bad-2" },
      { body: "good-3" },
    ]);
    const bad = ids[1]!;
    const dead = await waitFor(async () => {
      const dl = await getJson<{ deadLetters: { event: { id: string } }[] }>(
        `${eddy.url}/v1/dlq/queues/compat-batch`,
      );
      return dl.deadLetters.length > 0 && dl.deadLetters;
    }, "the bad message in the queue's dead-letter queue");
    expect(dead.map((d) => d.event.id)).toEqual([bad]);
    const runs = (await invocations(eddy.url, "sqs-batch")) as (Awaited<
      ReturnType<typeof invocations>
    >[number] & {
      batch?: { eventId: string; failed?: boolean }[];
    })[];
    const items = runs
      .sort((a, b) => a.attempt - b.attempt)
      .map((r) => r.batch?.map((b) => [b.eventId, b.failed ?? false]));
    expect(items).toEqual([ids.map((id) => [id, id === bad]), [[bad, true]]]);
  });
});
