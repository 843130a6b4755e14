import type { CloudEvent, EventInput } from "./cloudevents.js";
import { EddyError } from "./errors.js";
import { uuidv7 } from "./ids.js";
import type {
  DeadLetterDetail,
  DeadLetterSelection,
  DeadLettersParams,
  DeadLettersResponse,
  DeployChange,
  DeployRequest,
  DeployResponse,
  FunctionInfo,
  FunctionsResponse,
  GraphParams,
  GraphResponse,
  Invocation,
  InvocationsResponse,
  OutgoingMessageBody,
  Problem,
  PurgeResponse,
  ReceiveParams,
  ReceiveResponse,
  ReceivedMessageView,
  RedriveResponse,
  RollbackRequest,
  RunsParams,
  RunsResponse,
  RunView,
  StartRunRequest,
  StartRunResponse,
  SendMessagesResponse,
  SendResponse,
  SendResult,
} from "./wire/index.js";

/** Dead-letter calls name a function, or with `queue: true` a queue. */
export interface QueueOption {
  queue?: boolean;
}

/** Options of {@link EddyClient.deadLetters}. */
export type DeadLetterListOptions = DeadLettersParams & QueueOption;

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
    const body = await this.#request<SendResponse>("POST", "/v1/events", batch ? list : list[0], {
      "content-type": batch ? "application/cloudevents-batch+json" : "application/cloudevents+json",
    });
    return body.results;
  }

  /** Lists the loaded functions. */
  async functions(): Promise<FunctionInfo[]> {
    return (await this.#request<FunctionsResponse>("GET", "/v1/functions")).functions;
  }

  /**
   * The choreography map: event types, queues, functions and what links them, declared and
   * observed in the attempts since `since` (default "24h").
   *
   * @example
   * const { edges } = await client.graph({ since: "1h" });
   */
  async graph(params: GraphParams = {}): Promise<GraphResponse> {
    const q = new URLSearchParams();
    if (params.since !== undefined) q.set("since", params.since);
    if (params.limit !== undefined) q.set("limit", String(params.limit));
    const query = q.toString() ? `?${q}` : "";
    return this.#request<GraphResponse>("GET", `/v1/graph${query}`);
  }

  /** Lists recent invocations of a function, newest first. */
  async invocations(functionName: string, limit = 50): Promise<Invocation[]> {
    const q = new URLSearchParams({ function: functionName, limit: String(limit) });
    return (await this.#request<InvocationsResponse>("GET", `/v1/invocations?${q}`)).invocations;
  }

  /** Dead letters of a function (or, with `{ queue: true }`, of a queue), oldest first. */
  async deadLetters(name: string, options: DeadLetterListOptions = {}): Promise<DeadLettersResponse> {
    const q = new URLSearchParams();
    for (const k of ["limit", "after", "eventType", "errorName"] as const) {
      if (options[k] !== undefined) q.set(k, String(options[k]));
    }
    return this.#request<DeadLettersResponse>("GET", `${dlqPath(name, options.queue)}?${q}`);
  }

  /** One dead letter with the record of every attempt. */
  async deadLetter(name: string, id: string, options: QueueOption = {}): Promise<DeadLetterDetail> {
    return this.#request<DeadLetterDetail>(
      "GET",
      `${dlqPath(name, options.queue)}/${encodeURIComponent(id)}`,
    );
  }

  /** Puts dead letters back in the queue: by `ids`, by a filter, or `all: true`. */
  async redrive(name: string, selection: DeadLetterSelection, options: QueueOption = {}): Promise<number> {
    const path = `${dlqPath(name, options.queue)}/redrive`;
    return (await this.#request<RedriveResponse>("POST", path, selection)).redriven;
  }

  /** Deletes dead letters for good: by `ids`, by a filter, or `all: true`. */
  async purge(name: string, selection: DeadLetterSelection, options: QueueOption = {}): Promise<number> {
    const path = `${dlqPath(name, options.queue)}/purge`;
    return (await this.#request<PurgeResponse>("POST", path, selection)).purged;
  }

  /** Sends a message to a queue; resolves its id once it is durable. */
  async sendMessage(
    queue: string,
    body: unknown,
    options: Omit<OutgoingMessageBody, "body"> = {},
  ): Promise<string> {
    const message: OutgoingMessageBody = { body, ...options };
    const path = `/v1/queues/${encodeURIComponent(queue)}/messages`;
    return (await this.#request<SendMessagesResponse>("POST", path, message)).results[0]!.messageId;
  }

  /** Receives up to `max` messages, waiting up to `wait` for one (long polling). */
  async receiveMessages(queue: string, options: ReceiveParams = {}): Promise<ReceivedMessageView[]> {
    const path = `/v1/queues/${encodeURIComponent(queue)}/receive`;
    return (await this.#request<ReceiveResponse>("POST", path, options)).messages;
  }

  /** Deletes a received message (acknowledges it). */
  async deleteMessage(queue: string, receiptHandle: string): Promise<void> {
    await this.#request<undefined>(
      "DELETE",
      `/v1/queues/${encodeURIComponent(queue)}/messages/${encodeURIComponent(receiptHandle)}`,
    );
  }

  /**
   * Deploys an app: its bundled functions become the server's whole running set, atomically, or
   * nothing changes (the error's `problem.errors` names each module that failed). Needs the admin
   * key as `apiKey`. `eddy deploy` bundles and calls this.
   */
  async deploy(functions: DeployRequest["functions"]): Promise<DeployChange[]> {
    const body: DeployRequest = { functions };
    return (await this.#request<DeployResponse>("POST", "/v1/deploy", body)).functions;
  }

  /** Rolls a function back to its previous version, or to `version`. Needs the admin key as `apiKey`. */
  async rollback(name: string, version?: string): Promise<DeployChange> {
    const body: RollbackRequest = version === undefined ? {} : { version };
    return this.#request<DeployChange>("POST", `/v1/functions/${encodeURIComponent(name)}/rollback`, body);
  }

  /** Starts a run of a workflow with `data` as its trigger event's data; `id` makes the start idempotent. */
  async startRun(workflow: string, data?: unknown, options: { id?: string } = {}): Promise<StartRunResponse> {
    const body: StartRunRequest = { ...(data !== undefined ? { data } : {}), ...options };
    return this.#request<StartRunResponse>(
      "POST",
      `/v1/workflows/${encodeURIComponent(workflow)}/runs`,
      body,
    );
  }

  /** Workflow runs, newest first; `next` of the answer is the `before` of the next page. */
  async runs(params: RunsParams = {}): Promise<RunsResponse> {
    const q = new URLSearchParams();
    for (const k of ["workflow", "status", "limit", "before"] as const) {
      if (params[k] !== undefined) q.set(k, String(params[k]));
    }
    return this.#request<RunsResponse>("GET", `/v1/runs?${q}`);
  }

  /** One run with its trigger event, its steps and its outcome. */
  async run(id: string): Promise<RunView> {
    return this.#request<RunView>("GET", `/v1/runs/${encodeURIComponent(id)}`);
  }

  /** Cancels a run that has not finished. */
  async cancelRun(id: string): Promise<StartRunResponse> {
    return this.#request<StartRunResponse>("POST", `/v1/runs/${encodeURIComponent(id)}/cancel`, {});
  }

  /** Resumes a failed run from its failed step, keeping its finished steps. */
  async retryRun(id: string): Promise<StartRunResponse> {
    return this.#request<StartRunResponse>("POST", `/v1/runs/${encodeURIComponent(id)}/retry`, {});
  }

  #complete(e: EventInput): CloudEvent {
    return { ...e, specversion: "1.0", id: e.id ?? uuidv7(), source: e.source ?? this.#source };
  }

  /**
   * One call of the API. `T` is the wire type the route answers with (the server's routes are
   * typed with the same one, see ./wire), so this is the one place a parsed body is trusted to be it.
   */
  async #request<T>(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<T> {
    const h: Record<string, string> = { accept: "application/json", ...headers };
    if (this.#apiKey) h.authorization = `Bearer ${this.#apiKey}`;
    if (body !== undefined && !h["content-type"]) h["content-type"] = "application/json";
    const res = await this.#fetch(this.#url + path, {
      method,
      headers: h,
      body: body === undefined ? null : JSON.stringify(body),
    });
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    if (!res.ok) {
      throw new EddyRequestError(
        res.status,
        parsed as Problem | undefined,
        `${method} ${path}: HTTP ${res.status}`,
      );
    }
    return parsed as T;
  }
}
