import type { CloudEvent, EventInput } from "./cloudevents.js";
import { EddyError } from "./errors.js";
import { uuidv7 } from "./ids.js";

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
  /**
   * Accepted events: how many functions it was routed to (their triggers match it); 0 means
   * nothing runs it. Duplicates: 0 (nothing new was routed).
   */
  routed?: number;
  problem?: Problem;
}

/** Which dead letters an action applies to. */
export interface DeadLetterSelection {
  ids?: string[];
  eventType?: string;
  errorName?: string;
  deadAfter?: number | string;
  deadBefore?: number | string;
  all?: boolean;
}

/** A dead letter as the API shows it. */
export interface DeadLetterView {
  id: string;
  fn: string;
  event: CloudEvent;
  attempts: number;
  redrives: number;
  createdAt: number;
  deadAt: number;
  error: { name: string; message: string; code?: string; stack?: string };
  /** Only from {@link EddyClient.deadLetter}: the invocation record of every attempt, oldest first. */
  history?: {
    attempt: number;
    status: string;
    startedAt: number;
    error?: { name: string; message: string };
  }[];
}

/** A received queue message. */
export interface ReceivedMessageView {
  messageId: string;
  body: unknown;
  receiptHandle: string;
  receiveCount: number;
  groupId?: string;
  sentAt: number;
}

function dlqPath(name: string, queue?: boolean): string {
  return `/v1/dlq/${queue ? "queues" : "functions"}/${encodeURIComponent(name)}`;
}

/**
 * The server refused a request; `problem` is its RFC 9457 body and `code` its code, or
 * `EDDY_HTTP_ERROR` when the answer was no problem document (a proxy in between, for example).
 */
export class EddyRequestError extends EddyError {
  override readonly status: number;
  readonly problem: Problem | undefined;

  constructor(status: number, problem: Problem | undefined, fallback: string) {
    super(problem?.code ?? "EDDY_HTTP_ERROR", problem?.detail ?? problem?.title ?? fallback, { status });
    this.status = status;
    this.problem = problem;
  }
}

/** What a deploy or a rollback did to one function. */
export interface DeployChange {
  name: string;
  change: "added" | "updated" | "unchanged" | "removed";
  /** The version running now (undefined once removed). */
  version?: string;
  /** The version that ran before (undefined when added). */
  previous?: string;
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

  /** Dead letters of a function (or, with `{ queue: true }`, of a queue), oldest first. */
  async deadLetters(
    name: string,
    options: { queue?: boolean; limit?: number; after?: string; eventType?: string; errorName?: string } = {},
  ): Promise<{ deadLetters: DeadLetterView[]; next?: string }> {
    const q = new URLSearchParams();
    for (const k of ["limit", "after", "eventType", "errorName"] as const) {
      if (options[k] !== undefined) q.set(k, String(options[k]));
    }
    return (await this.#request("GET", `${dlqPath(name, options.queue)}?${q}`)) as {
      deadLetters: DeadLetterView[];
      next?: string;
    };
  }

  /** One dead letter with the record of every attempt. */
  async deadLetter(name: string, id: string, options: { queue?: boolean } = {}): Promise<DeadLetterView> {
    return (await this.#request(
      "GET",
      `${dlqPath(name, options.queue)}/${encodeURIComponent(id)}`,
    )) as DeadLetterView;
  }

  /** Puts dead letters back in the queue: by `ids`, by a filter, or `all: true`. */
  async redrive(
    name: string,
    selection: DeadLetterSelection,
    options: { queue?: boolean } = {},
  ): Promise<number> {
    const r = (await this.#request("POST", `${dlqPath(name, options.queue)}/redrive`, selection)) as {
      redriven: number;
    };
    return r.redriven;
  }

  /** Deletes dead letters for good: by `ids`, by a filter, or `all: true`. */
  async purge(
    name: string,
    selection: DeadLetterSelection,
    options: { queue?: boolean } = {},
  ): Promise<number> {
    return (
      (await this.#request("POST", `${dlqPath(name, options.queue)}/purge`, selection)) as { purged: number }
    ).purged;
  }

  /** Sends a message to a queue; resolves its id once it is durable. */
  async sendMessage(
    queue: string,
    body: unknown,
    options: { groupId?: string; dedupId?: string; delay?: string | number } = {},
  ): Promise<string> {
    const r = (await this.#request("POST", `/v1/queues/${encodeURIComponent(queue)}/messages`, {
      body,
      ...options,
    })) as {
      results: { messageId: string }[];
    };
    return r.results[0]!.messageId;
  }

  /** Receives up to `max` messages, waiting up to `wait` for one (long polling). */
  async receiveMessages(
    queue: string,
    options: { max?: number; wait?: string | number; visibilityTimeout?: string | number } = {},
  ): Promise<ReceivedMessageView[]> {
    const r = (await this.#request("POST", `/v1/queues/${encodeURIComponent(queue)}/receive`, options)) as {
      messages: ReceivedMessageView[];
    };
    return r.messages;
  }

  /** Deletes a received message (acknowledges it). */
  async deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    await this.#request(
      "DELETE",
      `/v1/queues/${encodeURIComponent(queue)}/messages/${encodeURIComponent(receiptHandle)}`,
    );
  }

  /**
   * Deploys an app: its bundled functions become the server's whole running set, atomically, or
   * nothing changes (the error's `problem.errors` names each module that failed). Needs the admin
   * key as `apiKey`. `eddy deploy` bundles and calls this.
   */
  async deploy(functions: { file: string; code: string }[]): Promise<DeployChange[]> {
    return ((await this.#request("POST", "/v1/deploy", { functions })) as { functions: DeployChange[] })
      .functions;
  }

  /** Rolls a function back to its previous version, or to `version`. Needs the admin key as `apiKey`. */
  async rollback(name: string, version?: string): Promise<DeployChange> {
    const body = version === undefined ? {} : { version };
    return (await this.#request(
      "POST",
      `/v1/functions/${encodeURIComponent(name)}/rollback`,
      body,
    )) as DeployChange;
  }

  #complete(e: EventInput): CloudEvent {
    return { ...e, specversion: "1.0", id: e.id ?? uuidv7(), source: e.source ?? this.#source };
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
    if (res.status === 204) return undefined;
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
