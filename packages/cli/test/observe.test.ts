import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { EDDY_BIN, REPO, runEddy, spawnEddy } from "./helpers.js";

// The example shop: reserve-stock → charge-payment → send-receipt.
const dataDir = mkdtempSync(join(tmpdir(), "eddy-observe-"));
let eddy: EddyProcess | undefined;
const order = JSON.stringify({
  orderId: "o-7",
  customer: "ada@example.com",
  items: [{ sku: "tea", quantity: 1, price: 3 }],
});

beforeAll(async () => {
  eddy = await spawnEddy(["start", "examples/shop", "--port", "0", "--data-dir", dataDir, "--no-auth"]);
  const sent = await runEddy([
    "send",
    "order.placed",
    "--source",
    "/shop/web",
    "--id",
    "traced-1",
    "--data",
    order,
    "--url",
    eddy.url,
  ]);
  expect(sent.code, sent.out).toBe(0);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const r = await fetch(`${eddy.url}/v1/invocations?function=send-receipt`);
    if (((await r.json()) as { invocations: unknown[] }).invocations.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
});
afterAll(async () => {
  await eddy?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("eddy trace, logs, usage", () => {
  it("eddy trace prints the tree of the order, with timings", async () => {
    const r = await runEddy(["trace", "traced-1", "--url", eddy!.url]);
    expect(r.code, r.out).toBe(0);
    const lines = r.out.trim().split("\n");
    expect(lines[0]).toMatch(/^trace [0-9a-f]{32} {2}[\d.]+ ms$/);
    const shape = lines
      .slice(1)
      .map((l) => l.replace(/ {2}\+\d+ms$/, "").replace(/ [\d.]+ms( cold)?$/, " Nms"));
    expect(shape).toEqual([
      "└─ event order.placed (traced-1)",
      "   └─ reserve-stock #1 succeeded Nms",
      "      └─ event stock.reserved (1.reserve-stock.0)",
      "         └─ charge-payment #1 succeeded Nms",
      "            └─ event order.paid (2.charge-payment.0)",
      "               └─ send-receipt #1 succeeded Nms",
      "                  └─ event receipt.sent (3.send-receipt.0)",
    ]);
  });

  it("eddy logs prints a function's lines, and --follow streams new ones", async () => {
    const r = await runEddy(["logs", "send-receipt", "--url", eddy!.url]);
    expect(r.out).toMatch(
      /INFO {2}\[send-receipt#1\] receipt sent \{"orderId":"o-7","to":"ada@example.com","total":3\}/,
    );

    const follow = spawn(
      process.execPath,
      [EDDY_BIN, "logs", "charge-payment", "--follow", "--since", "1s", "--url", eddy!.url],
      { cwd: REPO },
    );
    let out = "";
    follow.stdout.on("data", (c: Buffer) => (out += c.toString()));
    try {
      await new Promise((r) => setTimeout(r, 500));
      const again = order.replace("o-7", "o-8");
      await runEddy(["send", "order.placed", "--source", "/shop/web", "--data", again, "--url", eddy!.url]);
      const deadline = Date.now() + 10_000;
      while (!out.includes('"orderId":"o-8"') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(out).toMatch(/\[charge-payment#1\] charging \{"orderId":"o-8"/);
    } finally {
      follow.kill();
    }
  });

  it("eddy usage prints invocations and cost per function", async () => {
    const r = await runEddy(["usage", "--since", "1h", "--url", eddy!.url]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^send-receipt +\d+ +[\d.]+ +[\d.]+$/m);
    expect(r.out).toMatch(/^total +\d+ /m);
  });
});
