import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { GraphEdge, GraphNode, GraphResponse } from "eddy";
import { EddyClient, EddyRequestError } from "eddy";
import type { RunningEddy } from "@eddy/server";
import { invocations, post, startTestEddy, tempApp, waitFor } from "./helpers.js";
import { send, waitForRun, workflowSource } from "./workflow-helpers.js";

// A small choreography: "start" → a → mid → b; a also sends to the queue "jobs" (consumed by c)
// and emits a type it does not declare ("surprise"), which a prefix pattern consumes; b declares
// a type it never emits; f emits, then fails for good, so what it emitted is never published.
const fn = (
  name: string,
  config: string,
  body: string,
) => `import { defineFunction, on, NonRetriableError } from "eddy";
export default defineFunction({ name: ${JSON.stringify(name)}, ${config} }, async (event, ctx) => { ${body} });
`;
const app = tempApp({
  "functions/a.ts": fn(
    "a",
    'triggers: [on.event({ type: ["start"] })], emits: ["mid"], sends: ["jobs"]',
    'await ctx.emit([{ type: "mid" }, { type: "surprise" }]); await ctx.send("jobs", { n: 1 });',
  ),
  "functions/b.ts": fn("b", 'triggers: [on.event({ type: ["mid", "never"] })], emits: ["ghost"]', ""),
  "functions/c.ts": fn("c", 'triggers: [on.queue("jobs")]', ""),
  "functions/p.ts": fn("p", 'triggers: [on.event({ type: [{ prefix: "sur" }] })]', ""),
  "functions/s.ts": fn("s", 'triggers: [on.event({ source: ["/elsewhere"] })]', ""),
  "functions/f.ts": fn(
    "f",
    'triggers: [on.event({ type: ["start"] })], retries: { maxAttempts: 1 }',
    'await ctx.emit({ type: "from.failed" }); throw new NonRetriableError("no");',
  ),
  // A workflow: declares "wf.done", and its sendEvent steps publish it and an undeclared type.
  "functions/w.ts": workflowSource(
    "w",
    "wf.go",
    `await step.sendEvent("one", { type: "wf.done" });
     await step.sendEvent("two", [{ type: "wf.extra" }, { type: "wf.done" }]);
     return "ok";`,
    'emits: ["wf.done"]',
  ),
});
let eddy: RunningEddy;
let client: EddyClient;

beforeAll(async () => {
  eddy = await startTestEddy(app.dir);
  client = new EddyClient({ url: eddy.url });
  await fetch(`${eddy.url}/v1/queues/jobs`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
});
afterAll(async () => {
  await eddy?.close();
  app.cleanup();
});

const edge = (g: GraphResponse, from: string, to: string) =>
  g.edges.find((e) => e.from === from && e.to === to);
const node = (g: GraphResponse, id: string) => g.nodes.find((n) => n.id === id);
const shape = (e: GraphEdge | undefined) => e && `${e.kind} ${e.source}`;

describe("the choreography map", () => {
  it("draws what the configurations declare before anything ran", async () => {
    const g = await client.graph();
    expect(g.observed.records).toBe(0);
    expect(shape(edge(g, "event:start", "function:a"))).toBe("consumes declared");
    expect(shape(edge(g, "function:a", "event:mid"))).toBe("emits declared");
    expect(shape(edge(g, "function:a", "queue:jobs"))).toBe("sends declared");
    expect(shape(edge(g, "queue:jobs", "function:c"))).toBe("consumes declared");
    expect(shape(edge(g, "event:never", "function:b"))).toBe("consumes declared");
    expect(edge(g, "function:a", "event:surprise")).toBeUndefined();
    // A prefix on type is a pattern node; a pattern with no type condition too.
    const prefix = `pattern:${JSON.stringify({ type: [{ prefix: "sur" }] })}`;
    expect(shape(edge(g, prefix, "function:p"))).toBe("consumes declared");
    const other = `pattern:${JSON.stringify({ source: ["/elsewhere"] })}`;
    expect(shape(edge(g, other, "function:s"))).toBe("consumes declared");
    expect(node(g, "event:ghost")?.flags).toEqual(["no-consumer"]);
    expect(node(g, "event:start")?.flags).toEqual(["no-producer"]);
    // Sorted, so two answers compare as text.
    const ids = g.nodes.map((n: GraphNode) => n.id);
    expect(ids).toEqual([...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)));
  });

  it("marks edges the records show as observed or both, and flags what nothing consumes or emits", async () => {
    const sent = await post(`${eddy.url}/v1/events`, {
      specversion: "1.0",
      id: "graph-1",
      source: "/test",
      type: "start",
    });
    expect(sent.status).toBe(202);
    for (const name of ["a", "b", "c", "p"]) {
      await waitFor(
        async () => (await invocations(eddy.url, name)).some((x) => x.status === "succeeded"),
        `a succeeded attempt of ${name}`,
      );
    }
    await waitFor(async () => (await invocations(eddy.url, "f")).length > 0, "the failed attempt of f");
    // The record of a's attempt says what it published.
    const [rec] = await client.invocations("a");
    expect([rec?.emits, rec?.sends]).toEqual([["mid", "surprise"], ["jobs"]]);
    const g = await client.graph({ since: "1h" });
    expect(shape(edge(g, "function:a", "event:mid"))).toBe("emits both");
    expect(edge(g, "function:a", "event:mid")).toMatchObject({ attempts: 1 });
    expect(shape(edge(g, "function:a", "queue:jobs"))).toBe("sends both");
    expect(shape(edge(g, "function:a", "event:surprise"))).toBe("emits observed");
    expect(shape(edge(g, "function:b", "event:ghost"))).toBe("emits declared");
    // What a failed attempt emitted was never published, so it is not on the map.
    expect(node(g, "event:from.failed")).toBeUndefined();
    // "surprise" is emitted and consumed through the prefix pattern: not flagged.
    const prefix = `pattern:${JSON.stringify({ type: [{ prefix: "sur" }] })}`;
    expect(shape(edge(g, "event:surprise", prefix))).toBe("matches declared");
    expect(node(g, "event:surprise")?.flags).toBeUndefined();
    expect(node(g, "event:mid")?.flags).toBeUndefined();
    expect(node(g, "queue:jobs")?.flags).toBeUndefined();
    expect(node(g, "event:ghost")?.flags).toEqual(["no-consumer"]);
    expect(node(g, "event:never")?.flags).toEqual(["no-producer"]);
    expect(g.observed).toMatchObject({ records: 1, truncated: false });
    // The window bounds what is observed: none of it before now, and `limit` says it was cut.
    const later = await client.graph({ since: String(Date.now() + 60_000) });
    expect(shape(edge(later, "function:a", "event:mid"))).toBe("emits declared");
    expect(edge(later, "function:a", "event:surprise")).toBeUndefined();
  });

  it("draws a workflow as such, with what its sendEvent steps published as observed emits", async () => {
    const before = await client.graph();
    expect(node(before, "workflow:w")).toMatchObject({ kind: "workflow", name: "w" });
    expect(node(before, "function:w")).toBeUndefined();
    expect(shape(edge(before, "event:wf.go", "workflow:w"))).toBe("consumes declared");
    expect(shape(edge(before, "workflow:w", "event:wf.done"))).toBe("emits declared");
    await send(eddy.url, "wf.go", {});
    expect((await waitForRun(eddy.url, "w", "succeeded")).output).toBe("ok");
    const g = await client.graph({ since: "1h" });
    // One record per sendEvent step: "wf.done" by both, "wf.extra" by the second.
    expect(edge(g, "workflow:w", "event:wf.done")).toMatchObject({ source: "both", attempts: 2 });
    expect(edge(g, "workflow:w", "event:wf.extra")).toMatchObject({ source: "observed", attempts: 1 });
    expect(node(g, "event:wf.extra")?.flags).toEqual(["no-consumer"]);
  });

  it("refuses a bad window or limit with problem+json", async () => {
    for (const q of ["since=soon", "limit=0", "limit=10001", "limit=x"]) {
      const res = await fetch(`${eddy.url}/v1/graph?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.headers.get("content-type")).toMatch(/problem\+json/);
    }
    await expect(client.graph({ limit: 0 })).rejects.toBeInstanceOf(EddyRequestError);
  });
});
