// Work pinned to its version: a delivery that failed on version A and waits for a retry when B is
// deployed keeps running A (its records show A's version) until it finishes; new events run B.
// Version A holds its "hold" events until `release` is set in its ctx.kv; only version B sets it
// (on a "free" event), so the delivery can only finish after the deploy, with no timing involved.
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import type { Invocation } from "./helpers.js";
import {
  deployBody,
  fnSource,
  getJson,
  invocations,
  post,
  startTestEddy,
  tempApp,
  waitFor,
} from "./helpers.js";

const KEY = "test-admin-key-pinned-0123";
const OPTIONS = `retries: { maxAttempts: 1000, backoff: { initial: "20ms", max: "200ms" } }`;
const A = fnSource(
  "pinned",
  { type: ["hold", "free"] },
  `if (event.type === "hold" && !(await ctx.kv.get("release"))) throw new Error("held on A");
   ctx.log.info("A");`,
  OPTIONS,
);
const B = fnSource(
  "pinned",
  { type: ["hold", "free"] },
  `if (event.type === "free") await ctx.kv.set("release", true);
   ctx.log.info("B");`,
  OPTIONS,
);
// The same as a batch function: a batch that mixes versions runs as one attempt per version.
const batched = (body: string) => `import { defineBatchFunction, on } from "eddy";
export default defineBatchFunction(
  { name: "batched", triggers: [on.event({ type: ["bhold", "bfree"] })], batch: { maxSize: 10, timeout: "20ms" },
    ${OPTIONS} },
  async (events, ctx) => { ${body} },
);
`;
const BATCH_A = batched(`
  ctx.log.info("A");
  if (await ctx.kv.get("release")) return;
  return { batchItemFailures: events.filter((e) => e.type === "bhold").map((e) => ({ itemIdentifier: e.id })) };`);
const BATCH_B = batched(`
  if (events.some((e) => e.type === "bfree")) await ctx.kv.set("release", true);
  ctx.log.info("B");`);
const app = tempApp({ "functions/pinned.ts": A, "functions/batched.ts": BATCH_A });
let eddy: RunningEddy;

type Record = Invocation & {
  version: string;
  deliveryId: string;
  batch?: { eventId: string; failed?: boolean }[];
};

/** The records of attempts that ran `eventId`, alone or in a batch. */
const records = async (eventId: string, fn = "pinned") =>
  ((await invocations(eddy.url, fn)) as Record[]).filter(
    (r) => r.eventId === eventId || r.batch?.some((b) => b.eventId === eventId),
  );
const version = async (fn = "pinned") =>
  (await getJson<{ version: string }>(`${eddy.url}/v1/functions/${fn}`)).version;
const send = async (id: string, type: string) =>
  expect((await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type })).status).toBe(
    202,
  );
const succeeded = (id: string, fn = "pinned") =>
  waitFor(
    async () =>
      (await records(id, fn)).find(
        (r) => r.status === "succeeded" && !r.batch?.some((b) => b.eventId === id && b.failed),
      ),
    `${id} to succeed`,
    20_000,
  );
const failed = (id: string, fn = "pinned") =>
  waitFor(
    async () =>
      (await records(id, fn)).find(
        (r) => r.status === "failed" || r.batch?.some((b) => b.eventId === id && b.failed),
      ),
    `${id} to fail on A`,
  );

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { adminKey: KEY });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

it("finishes a delivery on the version it started on, and runs new events on the new one", async () => {
  const a = await version();
  const batchA = await version("batched");
  await send("hold-1", "hold");
  await send("bhold-1", "bhold");
  await failed("hold-1");
  await failed("bhold-1", "batched");

  const body = await deployBody({ "functions/pinned.ts": B, "functions/batched.ts": BATCH_B });
  const deployed = await post(`${eddy.url}/v1/deploy`, body, {
    "content-type": "application/json",
    authorization: `Bearer ${KEY}`,
  });
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
  const b = await version();
  expect(b).not.toBe(a);

  // A new event runs B, which releases hold-1: its next retry can only succeed on A.
  await send("free-1", "free");
  expect((await succeeded("free-1")).version).toBe(b);
  const done = await succeeded("hold-1");
  expect(done.version).toBe(a);
  expect(done.logs.map((l) => l.msg)).toEqual(["A"]);
  const all = await records("hold-1");
  expect(new Set(all.map((r) => r.version))).toEqual(new Set([a]));

  // The delivery is done: its pin is gone.
  expect(await eddy.engine.backend.kv.get("eddy:pin", `pinned/${done.deliveryId}`)).toBeUndefined();

  // Events after the deploy run B, and so do their retries.
  await send("hold-2", "hold");
  expect((await succeeded("hold-2")).version).toBe(b);

  // The batch function: the new event runs B alone, the held one A alone, whether or not they
  // were leased in one batch.
  const batchB = await version("batched");
  await send("bfree-1", "bfree");
  const freed = await succeeded("bfree-1", "batched");
  expect(freed.version).toBe(batchB);
  const held = await succeeded("bhold-1", "batched");
  expect(held.version).toBe(batchA);
  for (const r of await records("bhold-1", "batched")) expect(r.version).toBe(batchA);
  for (const r of await records("bfree-1", "batched")) expect(r.version).toBe(batchB);
}, 60_000);
