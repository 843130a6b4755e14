/**
 * The choreography map as a Mermaid flowchart: one node per node of the map, shaped by its kind,
 * and one arrow per edge, drawn by where it comes from (declared, observed, both). The output
 * depends only on the graph (nodes and edges arrive sorted), so it can be kept in a README.
 */
import type { GraphEdge, GraphNode, GraphNodeKind, GraphResponse } from "eddy";

/** Opening and closing brackets of each kind's shape. A new kind needs a line here. */
const SHAPES: Readonly<Record<GraphNodeKind, readonly [string, string]>> = {
  event: ["([", "])"],
  function: ["[", "]"],
  workflow: ["[[", "]]"],
  queue: ["[(", ")]"],
  pattern: ["{{", "}}"],
  route: ["[/", "/]"],
  schedule: ["((", "))"],
};

/** Declared: a solid arrow; observed only: dashed; both: thick. */
const ARROWS: Readonly<Record<GraphEdge["source"], string>> = {
  declared: "-->",
  observed: "-.->",
  both: "==>",
};

/** The flowchart of `graph`, ending in a newline. */
export function toMermaid(graph: Pick<GraphResponse, "nodes" | "edges">): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = [
    "flowchart LR",
    "  %% eddy graph: --> declared, -.-> observed only, ==> declared and observed",
  ];
  for (const n of graph.nodes) {
    // A newer server may know a kind this CLI does not: it is drawn as a box.
    const [open, close] = SHAPES[n.kind] ?? SHAPES.function;
    lines.push(`  ${ids.get(n.id)!}${open}"${label(n)}"${close}`);
  }
  for (const e of graph.edges) {
    const from = ids.get(e.from);
    const to = ids.get(e.to);
    if (from === undefined || to === undefined) continue;
    const arrow = ARROWS[e.source];
    lines.push(`  ${from} ${e.kind === "matches" ? `${arrow}|matches|` : arrow} ${to}`);
  }
  const flagged = graph.nodes.filter((n) => n.flags !== undefined && n.flags.length > 0);
  if (flagged.length > 0) {
    lines.push("  classDef flagged stroke:#d33,stroke-width:2px,stroke-dasharray:4");
    lines.push(`  class ${flagged.map((n) => ids.get(n.id)!).join(",")} flagged`);
  }
  return `${lines.join("\n")}\n`;
}

/** A node's text: its name, then its flags, with what Mermaid would read as syntax escaped. */
function label(n: GraphNode): string {
  const flags = n.flags?.map((f) => f.replace("-", " ")).join(", ");
  return escape(flags ? `${n.name} (${flags})` : n.name);
}

function escape(text: string): string {
  return text.replace(/[#"<>]/g, (c) => `#${c.charCodeAt(0)};`);
}
