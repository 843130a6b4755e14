/**
 * The choreography map, `GET /v1/graph`: what consumes and what produces each event type and
 * queue, as the deployed configurations declare it and as the records show it happened.
 */

/**
 * What a node stands for. `workflow`: a function defined with `defineWorkflow`; `pattern`: an
 * event trigger that names no exact `type` (a prefix, a wildcard, no type at all); `route` and
 * `schedule`: the other ways a function is started.
 */
export type GraphNodeKind = "event" | "queue" | "function" | "workflow" | "pattern" | "route" | "schedule";

/**
 * `no-consumer`: something emits (or sends to) it and nothing consumes it; `no-producer`: something
 * consumes it and nothing deployed emits (or sends to) it — fine for what arrives from outside
 * (`POST /v1/events`), worth a look otherwise.
 */
export type GraphFlag = "no-consumer" | "no-producer";

/** One node of the map. */
export interface GraphNode {
  /** `<kind>:<name>`, unique in the graph: `event:order.paid`, `function:send-receipt`. */
  id: string;
  kind: GraphNodeKind;
  /** The event type, queue name, function or workflow name, route ("POST /orders"), cron, or pattern (JSON). */
  name: string;
  /** Event types and queues only; absent when none holds. */
  flags?: GraphFlag[];
}

/**
 * `consumes`: from what starts a function or workflow (an event type, a queue, a pattern, a
 * route, a schedule) to it. `emits`: from a function or workflow to an event type (a workflow's
 * `step.sendEvent` too); `sends`: to a queue.
 * `matches`: from an event type to a pattern node whose `type` condition matches it.
 */
export type GraphEdgeKind = "consumes" | "emits" | "sends" | "matches";

/** One edge. `declared`: the configuration says so; `observed`: a record in the window shows it. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: GraphEdgeKind;
  source: "declared" | "observed" | "both";
  /** Observed edges: the attempts in the window that did it, and the newest one's start (epoch ms). */
  attempts?: number;
  lastAt?: number;
}

/** Parameters of `GET /v1/graph`. */
export interface GraphParams {
  /** Observed edges from attempts started since: "24h" (ago, the default), an ISO 8601 date, or epoch ms. */
  since?: string;
  /** Most attempt records read for observed edges, newest first: 1-10000, default 1000. */
  limit?: number;
}

/** `GET /v1/graph` answer: nodes and edges sorted by id, so two answers compare as text. */
export interface GraphResponse {
  nodes: GraphNode[];
  edges: GraphEdge[];
  /** The window the observed edges come from, and whether `limit` cut it short. */
  observed: { since: number; records: number; truncated: boolean };
}
