import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EddyClient } from "eddy";
import { createLogger, startEddy } from "@eddy/server";
import type { RunningEddy } from "@eddy/server";

const shop = fileURLToPath(new URL("..", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "eddy-shop-"));
let eddy: RunningEddy;

beforeAll(async () => {
  eddy = await startEddy({ dir: shop, dataDir, port: 0, log: createLogger({ level: "silent" }) });
});
afterAll(async () => {
  await eddy?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function runs(fn: string) {
  const res = await fetch(`${eddy.url}/v1/invocations?function=${fn}`);
  return (
    (await res.json()) as {
      invocations: {
        status: string;
        outcome: string;
        logs: { msg: string; fields?: Record<string, unknown> }[];
      }[];
    }
  ).invocations;
}

it("loads the four functions of the shop", () => {
  expect(eddy.failures).toEqual([]);
  expect(eddy.engine.functions().map((f) => f.name)).toEqual([
    "charge-payment",
    "place-order",
    "reserve-stock",
    "send-receipt",
  ]);
});

it("an order placed ends in a receipt, through every step of the choreography", async () => {
  await new EddyClient({ url: eddy.url }).send({
    type: "order.placed",
    source: "/shop/web",
    data: { orderId: "o-1", customer: "ada@example.com", items: [{ sku: "tea", quantity: 2, price: 4.5 }] },
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await runs("send-receipt")).length === 0)
    await new Promise((r) => setTimeout(r, 50));
  const [receipt] = await runs("send-receipt");
  expect(receipt!.status).toBe("succeeded");
  expect(receipt!.logs[0]).toMatchObject({ msg: "receipt sent", fields: { orderId: "o-1", total: 9 } });
  expect((await runs("reserve-stock"))[0]!.status).toBe("succeeded");
  expect((await runs("charge-payment"))[0]!.status).toBe("succeeded");
});

it("an order without items is dead-lettered at once by reserve-stock", async () => {
  await new EddyClient({ url: eddy.url }).send({
    type: "order.placed",
    source: "/shop/web",
    data: { orderId: "o-2", customer: "bob@example.com", items: [] },
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await eddy.engine.backend.queue.counts("reserve-stock")).dead === 0) {
    await new Promise((r) => setTimeout(r, 50));
  }
  const [dead] = await eddy.engine.backend.deadLetters.list("reserve-stock", { limit: 10 });
  expect(dead!.error).toMatchObject({ name: "NonRetriableError", message: "order o-2 has no items" });
  expect(dead!.attempts).toBe(1);
});

it("POST /orders validates the order and starts the choreography", async () => {
  const bad = await fetch(`${eddy.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer: "not-an-email", items: [] }),
  });
  expect(bad.status).toBe(400);
  expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual([
    "body.customer",
    "body.items",
  ]);
  const res = await fetch(`${eddy.url}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ customer: "bob@example.com", items: [{ sku: "cup", quantity: 1, price: 7 }] }),
  });
  expect(res.status).toBe(202);
  const { orderId } = (await res.json()) as { orderId: string };
  const deadline = Date.now() + 10_000;
  const sent = async () => (await runs("send-receipt")).find((r) => r.logs[0]?.fields?.orderId === orderId);
  while (Date.now() < deadline && !(await sent())) await new Promise((r) => setTimeout(r, 50));
  expect((await sent())?.logs[0]).toMatchObject({ fields: { orderId, total: 7 } });
});
