import type { AsyncRequestStatus, CloudEvent, HttpResponseView } from "eddy";
import type { ErrorInfo, InvocationRecord, LeasedDelivery, Settlement } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import type { SettleHooks } from "../dispatch/attempt.js";
import { routeSource } from "../events/sources.js";
import type { Logger } from "../observability/logger.js";
import { sendCallback } from "./callback-send.js";
import type { CallbackTargets } from "./callback-target.js";
import type { HttpRequestData, HttpResponseData, InvokeRequest } from "../runtime/protocol.js";

/** The type of the event that carries an async gateway request to its function. */
export const HTTP_EVENT_TYPE = "eddy.http.request";
/** Where request statuses live in the key-value store. */
export const REQUESTS_NS = "eddy:requests";
/** How long a request's status stays readable. */
export const STATUS_TTL_MS = 7 * 86_400_000;

/** The `data` of an async request's event. */
export interface AsyncRequestData {
  request: HttpRequestData;
  /** Who may read the status: the route's callers. */
  public: boolean;
  scopes?: string[];
  /** POSTed the status document once the request succeeded or failed for good. */
  callback?: string;
}

/** The stored status of an async request. */
export interface RequestStatus {
  id: string;
  fn: string;
  route: string;
  public: boolean;
  scopes?: string[];
  /** "skipped": settled without running (the function's rateLimit or idempotencyKey), see `reason`. */
  status: "pending" | "succeeded" | "failed" | "skipped";
  reason?: string;
  createdAt: number;
  updatedAt: number;
  /** Attempts so far. */
  attempts: number;
  /** The record of the last attempt (its logs, and the result). */
  invocationId?: string;
  error?: ErrorInfo;
  /**
   * The response, once succeeded (bounded as records' results are). Kept here as well as on the
   * record: the status is written with the settle's first step, and a cluster writes the record
   * after it, so the status alone must be the whole answer.
   */
  result?: HttpResponseData;
  resultTruncated?: boolean;
  callback?: string;
}

/** The delivery of an async request runs with the request, not the event, in the handler. */
export function withHttpRequest(req: InvokeRequest): InvokeRequest {
  if (req.http || req.event.type !== HTTP_EVENT_TYPE) return req;
  const data = req.event.data as AsyncRequestData | undefined;
  return data?.request ? { ...req, http: data.request } : req;
}

/** The event of an async request, and the status it starts with. */
export function asyncRequest(
  fn: string,
  data: AsyncRequestData,
  now: number,
): { event: CloudEvent; status: RequestStatus } {
  const id = data.request.requestId;
  const event: CloudEvent = {
    specversion: "1.0",
    id,
    source: routeSource(fn),
    type: HTTP_EVENT_TYPE,
    time: new Date(now).toISOString(),
    datacontenttype: "application/json",
    data,
  };
  const status: RequestStatus = {
    id,
    fn,
    route: data.request.route,
    public: data.public,
    status: "pending",
    createdAt: now,
    updatedAt: now,
    attempts: 0,
  };
  if (data.scopes) status.scopes = data.scopes;
  if (data.callback) status.callback = data.callback;
  return { event, status };
}

/**
 * What the settle of an async request's attempt adds: its new status, in the same durable write
 * (so the status URL never says "pending" about a request that finished), and the callback once
 * it succeeded or failed for good. The callback is best effort: three tries over about 6 s from
 * the node that settled, to targets `targets` allows; the status URL is the durable answer.
 */
export function httpDispatchHooks(log: Logger, targets: CallbackTargets, clock: Clock): SettleHooks {
  const statuses = new Map<string, RequestStatus>();
  return {
    kv(d, settlement, invocation) {
      const status = settledStatus(d, settlement, invocation, clock.now());
      if (!status) return [];
      if (status.callback && settlement.kind !== "retry") statuses.set(d.id, status);
      return [{ ns: REQUESTS_NS, key: status.id, value: status, ttlMs: STATUS_TTL_MS }];
    },
    settled(d, _settlement, _invocation) {
      const status = statuses.get(d.id);
      statuses.delete(d.id);
      if (status?.callback) void sendCallback(status.callback, statusDocument(status), targets, log);
    },
  };
}

function settledStatus(
  d: LeasedDelivery,
  settlement: Settlement,
  invocation: InvocationRecord,
  now: number,
): RequestStatus | undefined {
  if (d.event.type !== HTTP_EVENT_TYPE) return undefined;
  const data = d.event.data as AsyncRequestData;
  const { status } = asyncRequest(d.fn, data, d.createdAt);
  status.status = settlement.kind === "ack" ? "succeeded" : settlement.kind === "dead" ? "failed" : "pending";
  if (invocation.status === "skipped" && settlement.kind === "ack") {
    status.status = "skipped";
    status.reason = invocation.skipReason ?? "skipped";
  }
  status.updatedAt = now;
  status.attempts = d.attempt;
  status.invocationId = invocation.id;
  if (settlement.kind !== "ack") status.error = settlement.error;
  else if (invocation.result !== undefined) status.result = invocation.result as HttpResponseData;
  if (invocation.resultTruncated) status.resultTruncated = true;
  return status;
}

/** The document `GET /v1/invocations/ID` answers for a request id (and a callback receives). */
export function statusDocument(status: RequestStatus): AsyncRequestStatus {
  const doc: AsyncRequestStatus = {
    id: status.id,
    function: status.fn,
    route: status.route,
    status: status.status,
    createdAt: status.createdAt,
    updatedAt: status.updatedAt,
    attempts: status.attempts,
  };
  if (status.invocationId) doc.invocationId = status.invocationId;
  if (status.reason) doc.reason = status.reason;
  if (status.result !== undefined) doc.result = renderResponse(status.result);
  if (status.resultTruncated) doc.resultTruncated = true;
  if (status.error)
    doc.error = { name: status.error.name, message: status.error.message, code: status.error.code };
  return doc;
}

/** A stored response as JSON readers want it: headers as an object, a JSON body parsed. */
function renderResponse(r: HttpResponseData): HttpResponseView {
  const headers = Object.fromEntries(r.headers);
  let body: unknown = r.body;
  if (r.body !== undefined && r.bodyEncoding === undefined && /json/i.test(headers["content-type"] ?? "")) {
    try {
      body = JSON.parse(r.body);
    } catch {
      // Keep the text.
    }
  }
  return {
    status: r.status,
    headers,
    ...(body !== undefined ? { body } : {}),
    ...(r.bodyEncoding ? { bodyEncoding: r.bodyEncoding } : {}),
  };
}
