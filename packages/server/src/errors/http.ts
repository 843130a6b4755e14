import { EddyError, InvalidPatternError } from "eddy";

/**
 * Every condition the HTTP API answers with: its code, HTTP status and default title. This table
 * is the registry: `problem()` takes only its codes, each code has its class below, and
 * docs/errors.md documents each one (packages/server/test/errors-doc.test.ts checks both ways).
 */
export const HTTP_ERRORS = {
  EDDY_INVALID_JSON: { status: 400, title: "Bad request" },
  EDDY_INVALID_EVENT: { status: 400, title: "Invalid CloudEvent" },
  EDDY_EVENT_TOO_DEEP: { status: 400, title: "Event nested too deeply" },
  EDDY_INVALID_PATTERN: { status: 400, title: "Invalid event pattern" },
  EDDY_INVALID_REQUEST: { status: 400, title: "Bad request" },
  EDDY_INVALID_QUEUE: { status: 400, title: "Invalid queue" },
  EDDY_INVALID_MESSAGE: { status: 400, title: "Invalid message" },
  EDDY_INVALID_RECEIPT: { status: 400, title: "Invalid receipt handle" },
  EDDY_CALLBACK_NOT_ALLOWED: { status: 400, title: "Callback not allowed" },
  EDDY_UNAUTHORIZED: { status: 401, title: "Unauthorized" },
  EDDY_ADMIN_KEY_NOT_SET: { status: 403, title: "Deploys are disabled" },
  EDDY_FORBIDDEN: { status: 403, title: "Forbidden" },
  EDDY_HOST_NOT_ALLOWED: { status: 403, title: "Host not allowed" },
  EDDY_NOT_FOUND: { status: 404, title: "Not found" },
  EDDY_QUEUE_NOT_FOUND: { status: 404, title: "No such queue" },
  EDDY_WORKFLOW_NOT_FOUND: { status: 404, title: "No such workflow" },
  EDDY_RUN_NOT_FOUND: { status: 404, title: "No such run" },
  EDDY_METHOD_NOT_ALLOWED: { status: 405, title: "Method not allowed" },
  EDDY_REQUEST_TIMEOUT: { status: 408, title: "Request timeout" },
  EDDY_STALE_RECEIPT: { status: 409, title: "Receipt no longer valid" },
  EDDY_NO_PREVIOUS_VERSION: { status: 409, title: "No previous version" },
  EDDY_WRITE_CONFLICT: { status: 409, title: "Concurrent change" },
  EDDY_RUN_FINISHED: { status: 409, title: "Run already finished" },
  EDDY_RUN_NOT_FAILED: { status: 409, title: "Run not failed" },
  EDDY_EVENT_TOO_LARGE: { status: 413, title: "Event too large" },
  EDDY_PAYLOAD_TOO_LARGE: { status: 413, title: "Request body too large" },
  EDDY_UNSUPPORTED_MEDIA_TYPE: { status: 415, title: "Unsupported media type" },
  EDDY_DEPLOY_FAILED: { status: 422, title: "Deploy failed" },
  EDDY_PATTERN_TEST_TOO_COSTLY: { status: 422, title: "Pattern test too costly" },
  EDDY_RATE_LIMITED: { status: 429, title: "Too many requests" },
  EDDY_BACKLOG_FULL: { status: 429, title: "Too much work is waiting" },
  EDDY_HEADERS_TOO_LARGE: { status: 431, title: "Request headers too large" },
  EDDY_INTERNAL: { status: 500, title: "Internal error" },
  EDDY_FUNCTION_FAILED: { status: 502, title: "Function failed" },
  EDDY_STORE_FULL: { status: 503, title: "The store is full" },
  EDDY_STORE_UNAVAILABLE: { status: 503, title: "The store is unavailable" },
  EDDY_SHUTTING_DOWN: { status: 503, title: "Shutting down" },
  EDDY_NOT_READY: { status: 503, title: "Not ready" },
  EDDY_SERVER_BUSY: { status: 503, title: "Server busy" },
  EDDY_GATEWAY_TIMEOUT: { status: 504, title: "Gateway timeout" },
} as const satisfies Record<string, { status: number; title: string }>;

/** A code of {@link HTTP_ERRORS}. */
export type ProblemCode = keyof typeof HTTP_ERRORS;

/** True for a code of {@link HTTP_ERRORS}. */
export function isProblemCode(code: unknown): code is ProblemCode {
  return typeof code === "string" && Object.hasOwn(HTTP_ERRORS, code);
}

/** One field at fault, as problem documents list them in `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

/** What an HTTP condition carries into its problem document, beside its message (the `detail`). */
export interface HttpErrorOptions {
  cause?: unknown;
  /** The problem's `title`; the condition's default title when unset. */
  title?: string;
  /** The fields at fault. */
  errors?: FieldError[];
  /** More members of the problem document, e.g. `{ invocationId }`. */
  extra?: Record<string, unknown>;
}

/** An {@link EddyError} of a registered HTTP condition, as the API's error handler answers it. */
export interface HttpEddyError extends EddyError {
  readonly code: ProblemCode;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;
}

/**
 * The base class of one HTTP condition: `class NotFoundError extends httpError("EDDY_NOT_FOUND") {}`.
 * Its name is the subclass's; code, status and default title come from {@link HTTP_ERRORS}.
 */
function httpError<C extends ProblemCode>(code: C) {
  const { status, title } = HTTP_ERRORS[code];
  return class extends EddyError implements HttpEddyError {
    static readonly code: C = code;
    static readonly status: number = status;
    declare readonly code: C;
    declare readonly status: number;
    readonly title: string;
    readonly errors: FieldError[] | undefined;
    readonly extra: Record<string, unknown> | undefined;

    constructor(message: string, options: HttpErrorOptions = {}) {
      super(code, message, { cause: options.cause, status });
      this.title = options.title ?? title;
      this.errors = options.errors;
      this.extra = options.extra;
    }
  };
}

/** The body is not valid JSON. */
export class InvalidJsonError extends httpError("EDDY_INVALID_JSON") {}
/** An event breaks CloudEvents 1.0. */
export class InvalidEventError extends httpError("EDDY_INVALID_EVENT") {}
/** An event nests deeper than `maxEventDepth`. */
export class EventTooDeepError extends httpError("EDDY_EVENT_TOO_DEEP") {}
/** A query parameter or request body is malformed. */
export class InvalidRequestError extends httpError("EDDY_INVALID_REQUEST") {}
/** A queue definition is invalid; `errors[0].path` names the attribute. */
export class InvalidQueueError extends httpError("EDDY_INVALID_QUEUE") {}
/** A queue message is invalid. */
export class InvalidMessageError extends httpError("EDDY_INVALID_MESSAGE") {}
/** A receipt handle is not one Eddy issued. */
export class InvalidReceiptError extends httpError("EDDY_INVALID_RECEIPT") {}
/** An `Eddy-Callback` target the policy refuses (also when it is called: it is not retried). */
export class CallbackNotAllowedError extends httpError("EDDY_CALLBACK_NOT_ALLOWED") {}
/** No credentials, or ones that are not valid. */
export class UnauthorizedError extends httpError("EDDY_UNAUTHORIZED") {}
/** The server has no admin key, so it takes no deploys over HTTP. */
export class AdminKeyNotSetError extends httpError("EDDY_ADMIN_KEY_NOT_SET") {}
/** Valid credentials without the scope needed. */
export class ForbiddenError extends httpError("EDDY_FORBIDDEN") {}
/** A `/v1` request with a foreign `Host` or `Origin` to a server without credentials. */
export class HostNotAllowedError extends httpError("EDDY_HOST_NOT_ALLOWED") {}
/** No such route, function, invocation or version. */
export class NotFoundError extends httpError("EDDY_NOT_FOUND") {}
/** No queue has this name. */
export class QueueNotFoundError extends httpError("EDDY_QUEUE_NOT_FOUND") {}
/** No deployed workflow has this name (`POST /v1/workflows/NAME/runs`). */
export class WorkflowNotFoundError extends httpError("EDDY_WORKFLOW_NOT_FOUND") {}
/** No workflow run has this id. */
export class RunNotFoundError extends httpError("EDDY_RUN_NOT_FOUND") {}
/** The run to cancel has finished already. */
export class RunFinishedError extends httpError("EDDY_RUN_FINISHED") {}
/** The run to retry did not fail (it is running, succeeded, was cancelled or compensated). */
export class RunNotFailedError extends httpError("EDDY_RUN_NOT_FAILED") {}
/** A gateway path served for other methods only. */
export class MethodNotAllowedError extends httpError("EDDY_METHOD_NOT_ALLOWED") {}
/** Headers or the whole request did not arrive in time. */
export class RequestTimeoutError extends httpError("EDDY_REQUEST_TIMEOUT") {}
/** A receipt that no longer holds its message. */
export class StaleReceiptError extends httpError("EDDY_STALE_RECEIPT") {}
/** A rollback found no earlier version. */
export class NoPreviousVersionError extends httpError("EDDY_NO_PREVIOUS_VERSION") {}
/** State read for a compare-and-set write changed too often meanwhile (another process wrote). */
export class WriteConflictError extends httpError("EDDY_WRITE_CONFLICT") {}
/** One event is over `maxEventBytes`. */
export class EventTooLargeError extends httpError("EDDY_EVENT_TOO_LARGE") {}
/** The request body is over the body limit. */
export class PayloadTooLargeError extends httpError("EDDY_PAYLOAD_TOO_LARGE") {}
/** A content type the endpoint does not take. */
export class UnsupportedMediaTypeError extends httpError("EDDY_UNSUPPORTED_MEDIA_TYPE") {}
/** A deploy or rollback was refused and nothing changed; `errors` names each file. */
export class DeployFailedError extends httpError("EDDY_DEPLOY_FAILED") {}
/** A pattern dry run that would cost too much. */
export class PatternTestTooCostlyError extends httpError("EDDY_PATTERN_TEST_TOO_COSTLY") {}
/** A gateway route's rate limit is used up. */
export class RateLimitedError extends httpError("EDDY_RATE_LIMITED") {}
/** Ingest backpressure: too many deliveries wait. */
export class BacklogFullError extends httpError("EDDY_BACKLOG_FULL") {}
/** Headers over Node's 16 KiB. */
export class HeadersTooLargeError extends httpError("EDDY_HEADERS_TOO_LARGE") {}
/** A bug or unexpected failure. */
export class InternalError extends httpError("EDDY_INTERNAL") {}
/** A synchronous gateway route's function failed. */
export class FunctionFailedError extends httpError("EDDY_FUNCTION_FAILED") {}
/** The store's disk is (nearly) full. */
export class StoreFullError extends httpError("EDDY_STORE_FULL") {}
/** The store could not write. */
export class StoreUnavailableError extends httpError("EDDY_STORE_UNAVAILABLE") {}
/** The server is stopping. */
export class ShuttingDownError extends httpError("EDDY_SHUTTING_DOWN") {}
/** `/readyz`: the node is not ready. */
export class NotReadyError extends httpError("EDDY_NOT_READY") {}
/** The request bodies in flight are at `maxBufferedBodyBytes`. */
export class ServerBusyError extends httpError("EDDY_SERVER_BUSY") {}
/** A synchronous gateway route did not answer within its timeout. */
export class GatewayTimeoutError extends httpError("EDDY_GATEWAY_TIMEOUT") {}

/**
 * The class of every HTTP condition, by code (`EDDY_INVALID_PATTERN` is the SDK's, since
 * `defineFunction` and the pattern compiler raise it too).
 */
export const HTTP_ERROR_CLASSES = {
  EDDY_INVALID_JSON: InvalidJsonError,
  EDDY_INVALID_EVENT: InvalidEventError,
  EDDY_EVENT_TOO_DEEP: EventTooDeepError,
  EDDY_INVALID_PATTERN: InvalidPatternError,
  EDDY_INVALID_REQUEST: InvalidRequestError,
  EDDY_INVALID_QUEUE: InvalidQueueError,
  EDDY_INVALID_MESSAGE: InvalidMessageError,
  EDDY_INVALID_RECEIPT: InvalidReceiptError,
  EDDY_CALLBACK_NOT_ALLOWED: CallbackNotAllowedError,
  EDDY_UNAUTHORIZED: UnauthorizedError,
  EDDY_ADMIN_KEY_NOT_SET: AdminKeyNotSetError,
  EDDY_FORBIDDEN: ForbiddenError,
  EDDY_HOST_NOT_ALLOWED: HostNotAllowedError,
  EDDY_NOT_FOUND: NotFoundError,
  EDDY_QUEUE_NOT_FOUND: QueueNotFoundError,
  EDDY_WORKFLOW_NOT_FOUND: WorkflowNotFoundError,
  EDDY_RUN_NOT_FOUND: RunNotFoundError,
  EDDY_METHOD_NOT_ALLOWED: MethodNotAllowedError,
  EDDY_REQUEST_TIMEOUT: RequestTimeoutError,
  EDDY_STALE_RECEIPT: StaleReceiptError,
  EDDY_NO_PREVIOUS_VERSION: NoPreviousVersionError,
  EDDY_WRITE_CONFLICT: WriteConflictError,
  EDDY_RUN_FINISHED: RunFinishedError,
  EDDY_RUN_NOT_FAILED: RunNotFailedError,
  EDDY_EVENT_TOO_LARGE: EventTooLargeError,
  EDDY_PAYLOAD_TOO_LARGE: PayloadTooLargeError,
  EDDY_UNSUPPORTED_MEDIA_TYPE: UnsupportedMediaTypeError,
  EDDY_DEPLOY_FAILED: DeployFailedError,
  EDDY_PATTERN_TEST_TOO_COSTLY: PatternTestTooCostlyError,
  EDDY_RATE_LIMITED: RateLimitedError,
  EDDY_BACKLOG_FULL: BacklogFullError,
  EDDY_HEADERS_TOO_LARGE: HeadersTooLargeError,
  EDDY_INTERNAL: InternalError,
  EDDY_FUNCTION_FAILED: FunctionFailedError,
  EDDY_STORE_FULL: StoreFullError,
  EDDY_STORE_UNAVAILABLE: StoreUnavailableError,
  EDDY_SHUTTING_DOWN: ShuttingDownError,
  EDDY_NOT_READY: NotReadyError,
  EDDY_SERVER_BUSY: ServerBusyError,
  EDDY_GATEWAY_TIMEOUT: GatewayTimeoutError,
} as const satisfies { [C in ProblemCode]: { readonly code: C; readonly status: number } };
