import type { CloudEvent, EventInput } from "./cloudevents.js";
import { EddyError } from "./errors.js";

/** An RFC 9457 problem document, as every Eddy HTTP error is. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  errors?: { path: string; message: string }[];
  [member: string]: unknown;
}

/** Outcome of one event of a send. */
export interface SendResult {
  /** Position in the batch. */
  index: number;
  id?: string;
  source?: string;
  /**
   * "accepted": durably stored now; "duplicate": the same source+id was already accepted within the
   * dedup window (nothing new stored, nothing runs twice); "rejected": not stored, see `problem`.
   */
  status: "accepted" | "duplicate" | "rejected";
  problem?: Problem;
}

/** The server refused a request; `problem` is its RFC 9457 body. */
export class EddyRequestError extends EddyError {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, fallback: string) {
    super(problem?.code ?? "EDDY_HTTP_ERROR", problem?.detail ?? problem?.title ?? fallback);
    this.status = status;
    this.problem = problem;
  }
}

/** Options of {@link EddyClient}. */
export interface EddyClientOptions {
  /** Base URL of an Eddy server, e.g. http://127.0.0.1:8080 */
  url: string;
  /** Sent as `Authorization: Bearer …` when set. */
  apiKey?: string;
  /** Default `source` for events that have none. */
  source?: string;
  fetch?: typeof fetch;
}

/**
 * Talks to an Eddy server over its HTTP API.
 *
 * @example
 * const eddy = new EddyClient({ url: "http://127.0.0.1:8080" });
 * await eddy.send({ type: "order.placed", source: "/shop", data: { orderId: "o-1" } });
 */
export class EddyClient {
  readonly #url: string;
  readonly #apiKey: string | undefined;
  readonly #source: string;
  readonly #fetch: typeof fetch;

  constructor(options: EddyClientOptions) {
    this.#url = options.url.replace(/\/+$/, "");
    this.#apiKey = options.apiKey;
    this.#source = options.source ?? "eddy-client";
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * Publishes one event or a batch. Resolves once the server has stored them durably. A refused
   * single event, or a batch of which nothing was accepted, rejects with {@link EddyRequestError}
   * whose `problem.errors` say what was wrong; in a partly accepted batch (HTTP 207) the refused
   * items have status "rejected" and a `problem`.
   */
  async send(events: EventInput | EventInput[]): Promise<SendResult[]> {
    const batch = Array.isArray(events);
    const list = (batch ? events : [events]).map((e) => this.#complete(e));
    const body = await this.#request("POST", "/v1/events", batch ? list : list[0], {
      "content-type": batch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
    });
    return (body as { results: SendResult[] }).results;
  }

  /** Lists the loaded functions. */
  async functions(): Promise<unknown[]> {
    return ((await this.#request("GET", "/v1/functions")) as { functions: unknown[] }).functions;
  }

  /** Lists recent invocations of a function, newest first. */
  async invocations(functionName: string, limit = 50): Promise<unknown[]> {
    const q = new URLSearchParams({ function: functionName, limit: String(limit) });
    return ((await this.#request("GET", `/v1/invocations?${q}`)) as { invocations: unknown[] }).invocations;
  }

  #complete(e: EventInput): CloudEvent {
    return { ...e, specversion: "1.0", id: e.id ?? crypto.randomUUID(), source: e.source ?? this.#source };
  }

  async #request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const h: Record<string, string> = { accept: "application/json", ...headers };
    if (this.#apiKey) h.authorization = `Bearer ${this.#apiKey}`;
    if (body !== undefined && !h["content-type"]) h["content-type"] = "application/json";
    const res = await this.#fetch(this.#url + path, {
      method,
      headers: h,
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      throw new EddyRequestError(
        res.status,
        parsed as Problem | undefined,
        `${method} ${path}: HTTP ${res.status}`,
      );
    }
    return parsed;
  }
}
