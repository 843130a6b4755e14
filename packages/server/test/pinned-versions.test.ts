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
const app = tempApp({ "functions/pinned.ts": A });
let eddy: RunningEddy;

type Record = Invocation & { version: string; deliveryId: string };

const records = async (eventId: string) =>
  ((await invocations(eddy.url, "pinned")) as Record[]).filter((r) => r.eventId === eventId);
const version = async () => (await getJson<{ version: string }>(`${eddy.url}/v1/functions/pinned`)).version;
const send = async (id: string, type: string) =>
  expect((await post(`${eddy.url}/v1/events`, { specversion: "1.0", id, source: "/t", type })).status).toBe(
    202,
  );
const succeeded = (id: string) =>
  waitFor(async () => (await records(id)).find((r) => r.status === "succeeded"), `${id} to succeed`, 20_000);

beforeAll(async () => {
  eddy = await startTestEddy(app.dir, { adminKey: KEY });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

it("finishes a delivery on the version it started on, and runs new events on the new one", async () => {
  const a = await version();
  await send("hold-1", "hold");
  await waitFor(
    async () => (await records("hold-1")).find((r) => r.status === "failed"),
    "hold-1 to fail on A",
  );

  const deployed = await post(`${eddy.url}/v1/deploy`, await deployBody({ "functions/pinned.ts": B }), {
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
}, 60_000);
