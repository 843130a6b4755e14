import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphResponse } from "eddy";
import type { EddyProcess } from "./helpers.js";
import { REPO, runEddy, spawnEddy } from "./helpers.js";
import { waitFor } from "../../server/test/helpers.js";

// `eddy graph` on the example shop, on a real server: first as the configurations declare it
// (what the shop's README shows), then after an order ran through it.
const dataDir = mkdtempSync(join(tmpdir(), "eddy-graph-"));
let eddy: EddyProcess | undefined;

beforeAll(async () => {
  eddy = await spawnEddy(["start", "examples/shop", "--port", "0", "--data-dir", dataDir, "--no-auth"]);
});
afterAll(async () => {
  await eddy?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The README's mermaid block, as `eddy graph --format mermaid` would print it. */
function readmeGraph(): string {
  const readme = readFileSync(join(REPO, "examples/shop/README.md"), "utf8");
  const m = /```mermaid\n([\s\S]*?)```/.exec(readme);
  expect(m, "examples/shop/README.md has a mermaid block").not.toBeNull();
  return m![1]!;
}

describe("eddy graph", () => {
  it("prints the shop's map as its README shows it", async () => {
    const r = await runEddy(["graph", "--format", "mermaid", "--url", eddy!.url]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toBe(readmeGraph());
  });

  it("prints JSON, and draws the edges an order took as declared and observed", async () => {
    const order = JSON.stringify({
      orderId: "g-1",
      customer: "ada@example.com",
      items: [{ sku: "tea", quantity: 1, price: 3 }],
    });
    const sent = await runEddy([
      "send",
      "order.placed",
      "--source",
      "/shop/web",
      "--data",
      order,
      "--url",
      eddy!.url,
    ]);
    expect(sent.code, sent.out).toBe(0);
    // send-receipt is the end of the chain: once its emit is observed, every step before it's is.
    const ended = (g: GraphResponse) =>
      g.edges.some(
        (e) => e.from === "function:send-receipt" && e.to === "event:receipt.sent" && e.source === "both",
      );
    await waitFor(
      async () => ended((await (await fetch(`${eddy!.url}/v1/graph`)).json()) as GraphResponse),
      "send-receipt's emit to be observed",
      15_000,
    );
    const r = await runEddy(["graph", "--format", "json", "--url", eddy!.url]);
    expect(r.code, r.out).toBe(0);
    const graph = JSON.parse(r.out) as GraphResponse;
    const sources = Object.fromEntries(graph.edges.map((e) => [`${e.from} ${e.kind} ${e.to}`, e.source]));
    expect(sources).toMatchObject({
      "function:reserve-stock emits event:stock.reserved": "both",
      "function:charge-payment emits event:order.paid": "both",
      "function:send-receipt emits event:receipt.sent": "both",
      // A synchronous HTTP request that succeeds keeps no record: its emits stay declared only.
      "function:place-order emits event:order.placed": "declared",
      "event:order.placed consumes function:reserve-stock": "declared",
    });
    expect(graph.nodes.find((n) => n.id === "event:receipt.sent")?.flags).toEqual(["no-consumer"]);
    const mermaid = await runEddy(["graph", "--url", eddy!.url]);
    expect(mermaid.out).toContain("n6 ==> n3"); // reserve-stock ==> stock.reserved
    expect(mermaid.out).toContain("n5 --> n1"); // place-order --> order.placed
  });

  it("refuses an unknown format", async () => {
    const r = await runEddy(["graph", "--format", "dot", "--url", eddy!.url]);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('--format is "mermaid" or "json", got dot');
  });
});
