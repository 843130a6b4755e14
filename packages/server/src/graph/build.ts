/**
 * The choreography map: from the deployed configurations (what each function consumes, and the
 * `emits` / `sends` it declares) and from the records (what attempts did publish), the graph of
 * event types, queues and functions, each edge marked declared, observed or both.
 */
import type {
  GraphEdge,
  GraphEdgeKind,
  GraphFlag,
  GraphNode,
  GraphNodeKind,
  ResolvedFunctionConfig,
} from "eddy";
import { matchesPattern } from "eddy";
import type { EmissionRow } from "../backends/types.js";
import { triggerSources } from "./triggers.js";

/**
 * Something deployed that consumes and produces: a function, or a workflow (its config has the
 * same `triggers`, `emits` and `sends`; its node is drawn as a workflow).
 */
export interface GraphUnit {
  kind: Extract<GraphNodeKind, "function" | "workflow">;
  name: string;
  config: Pick<ResolvedFunctionConfig, "triggers" | "emits"> & { sends?: string[] };
}

/** What the map is drawn from. */
export interface GraphInput {
  units: GraphUnit[];
  /** Queues created on the server (`/v1/queues`), drawn even when nothing uses them yet. */
  queues: string[];
  /** What the records show attempts published. */
  observed: EmissionRow[];
}

/** The map; nodes sorted by id, edges by from, to and kind. */
export interface Graph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** Builds the map from `input`. */
export function buildGraph(input: GraphInput): Graph {
  const g = new GraphBuilder();
  const kindOf = new Map(input.units.map((u) => [u.name, u.kind]));
  const patterns: { id: string; condition: unknown }[] = [];
  for (const q of input.queues) g.node("queue", q);
  for (const u of input.units) {
    const self = g.node(u.kind, u.name);
    for (const trigger of u.config.triggers) {
      for (const s of triggerSources(trigger)) {
        const from = g.node(s.kind, s.name);
        g.edge(from, self, "consumes", "declared");
        if (s.typeCondition !== undefined) patterns.push({ id: from, condition: s.typeCondition });
      }
    }
    for (const type of u.config.emits) g.edge(self, g.node("event", type), "emits", "declared");
    for (const queue of u.config.sends ?? []) g.edge(self, g.node("queue", queue), "sends", "declared");
  }
  for (const r of input.observed) {
    // A record of a function no longer deployed still says what it did.
    const self = g.node(kindOf.get(r.fn) ?? "function", r.fn);
    const target = g.node(r.kind === "emits" ? "event" : "queue", r.target);
    g.edge(self, target, r.kind, "observed", r);
  }
  for (const type of g.names("event")) {
    for (const p of patterns) {
      if (matchesPattern({ type: p.condition } as never, { type })) {
        g.edge(nodeId("event", type), p.id, "matches", "declared");
      }
    }
  }
  return g.done();
}

/** A node's id: `<kind>:<name>`. */
export function nodeId(kind: GraphNodeKind, name: string): string {
  return `${kind}:${name}`;
}

/** Which flag a node of `kind` gets without consumers or producers; kinds not listed get none. */
const FLAGGED: Partial<Record<GraphNodeKind, true>> = { event: true, queue: true };
const PRODUCES: ReadonlySet<GraphEdgeKind> = new Set(["emits", "sends"]);

class GraphBuilder {
  readonly #nodes = new Map<string, GraphNode>();
  readonly #edges = new Map<string, GraphEdge>();

  node(kind: GraphNodeKind, name: string): string {
    const id = nodeId(kind, name);
    if (!this.#nodes.has(id)) this.#nodes.set(id, { id, kind, name });
    return id;
  }

  names(kind: GraphNodeKind): string[] {
    return [...this.#nodes.values()].filter((n) => n.kind === kind).map((n) => n.name);
  }

  edge(
    from: string,
    to: string,
    kind: GraphEdgeKind,
    source: "declared" | "observed",
    seen?: { attempts: number; lastAt: number },
  ): void {
    const key = `${from}\n${to}\n${kind}`;
    const e = this.#edges.get(key) ?? { from, to, kind, source };
    if (e.source !== source) e.source = "both";
    if (seen) {
      e.attempts = (e.attempts ?? 0) + seen.attempts;
      e.lastAt = Math.max(e.lastAt ?? 0, seen.lastAt);
    }
    this.#edges.set(key, e);
  }

  done(): Graph {
    const edges = [...this.#edges.values()].sort(
      (a, b) => compare(a.from, b.from) || compare(a.to, b.to) || compare(a.kind, b.kind),
    );
    const consumed = new Set(edges.filter((e) => !PRODUCES.has(e.kind)).map((e) => e.from));
    const produced = new Set(edges.filter((e) => PRODUCES.has(e.kind)).map((e) => e.to));
    const nodes = [...this.#nodes.values()].sort((a, b) => compare(a.id, b.id));
    for (const n of nodes) {
      if (!FLAGGED[n.kind]) continue;
      const flags: GraphFlag[] = [];
      if (produced.has(n.id) && !consumed.has(n.id)) flags.push("no-consumer");
      if (consumed.has(n.id) && !produced.has(n.id)) flags.push("no-producer");
      if (flags.length > 0) n.flags = flags;
    }
    return { nodes, edges };
  }
}

/** Code-unit order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
