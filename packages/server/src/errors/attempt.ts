/**
 * The conditions a function attempt ends with, recorded on its invocation (and its dead letter)
 * as `{ name, code, message }`: one class per condition, its name the class name. This module runs
 * inside sandboxes too (it imports only the SDK). docs/errors.md lists each code under "Function
 * attempts"; packages/server/test/errors-doc.test.ts checks both ways.
 */
import { EddyError, InvalidFunctionConfigError, NonRetriableError, RetryAfterError } from "eddy";
import type { ErrorInfo } from "../backends/types.js";

/** The attempt ran past the function's `timeout`; its sandbox was terminated. */
export class FunctionTimeoutError extends EddyError {
  static readonly code = "EDDY_FUNCTION_TIMEOUT";
  constructor(timeoutMs: number) {
    super(FunctionTimeoutError.code, `the function did not finish within its timeout of ${timeoutMs} ms`);
  }
}

/** The sandbox ran out of its memory limit (`memoryMb`); it was terminated. */
export class FunctionOutOfMemoryError extends EddyError {
  static readonly code = "EDDY_FUNCTION_OUT_OF_MEMORY";
  /** `offHeapMb`: set when it was its ArrayBuffers and Buffers, which V8's heap limit does not count. */
  constructor(memoryMb: number, offHeapMb?: number) {
    super(
      FunctionOutOfMemoryError.code,
      `the function exceeded its memory limit of ${memoryMb} MB` +
        (offHeapMb === undefined ? "" : ` (${offHeapMb} MB of ArrayBuffers and Buffers)`),
    );
  }
}

/** The sandbox died during the attempt (process.exit, an uncaught error in a timer, a crash). */
export class SandboxCrashedError extends EddyError {
  static readonly code = "EDDY_SANDBOX_CRASHED";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(SandboxCrashedError.code, `the sandbox crashed: ${detail}`, options);
  }
}

/** The function's module could not be loaded (syntax error, throws at import, bad default export). */
export class FunctionLoadError extends EddyError {
  static readonly code = "EDDY_FUNCTION_LOAD_FAILED";
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super(FunctionLoadError.code, `${file}: ${detail}`, options);
  }
}

/**
 * The attempt could not be handed to its sandbox: its message did not serialize (structured clone
 * for a thread, IPC for a process), e.g. an event stored before the nesting limit that nests
 * thousands of levels deep. The sandbox is untouched; the delivery is retried per its policy.
 */
export class SandboxHandOffError extends EddyError {
  static readonly code = "EDDY_SANDBOX_HANDOFF_FAILED";
  constructor(detail: string) {
    super(SandboxHandOffError.code, `the attempt could not be handed to the sandbox: ${detail}`);
  }
}

/**
 * What the sandbox handed back for an attempt could not be taken: its return value nests too deep,
 * all it returned (value, emits, sends, logs) is too large, or the message is malformed.
 */
export class InvalidResultError extends EddyError {
  static readonly code = "EDDY_INVALID_RESULT";
  constructor(detail: string) {
    super(InvalidResultError.code, `the attempt's result was refused: ${detail}`);
  }
}

/** The delivery was older than `retries.maxEventAge`: dead-lettered without running again. */
export class EventTooOldError extends EddyError {
  static readonly code = "EDDY_EVENT_TOO_OLD";
  constructor(ageMs: number, maxEventAgeMs: number) {
    super(
      EventTooOldError.code,
      `the delivery is ${ageMs} ms old, over retries.maxEventAge (${maxEventAgeMs} ms)`,
    );
  }
}

/** A queue message was received more than its queue's `maxReceiveCount` times: dead-lettered. */
export class MaxReceiveCountError extends EddyError {
  static readonly code = "EDDY_MAX_RECEIVE_COUNT";
  constructor(received: number, maxReceiveCount: number) {
    super(
      MaxReceiveCountError.code,
      `received ${received} times, the queue's maxReceiveCount is ${maxReceiveCount}`,
    );
  }
}

/** An event the attempt emitted (or a message it sent) was refused; nothing it emitted was published. */
export class InvalidEmitError extends EddyError {
  static readonly code = "EDDY_INVALID_EMIT";
  constructor(detail: string, options?: { cause?: unknown }) {
    super(InvalidEmitError.code, detail, options);
  }
}

/** An item of a batch (or an SQS record) the handler reported in `batchItemFailures`. */
export class BatchItemFailedError extends EddyError {
  static readonly code = "EDDY_BATCH_ITEM_FAILED";
  constructor() {
    super(BatchItemFailedError.code, "reported in batchItemFailures");
  }
}

/** A synchronous gateway route's function answered with a body over the gateway's limit. */
export class ResponseTooLargeError extends EddyError {
  static readonly code = "EDDY_RESPONSE_TOO_LARGE";
  constructor(bytes: number, maxBytes: number) {
    super(
      ResponseTooLargeError.code,
      `the response body is ${bytes} bytes, over the gateway's limit of ${maxBytes}`,
    );
  }
}

/** The function threw something that is not an Error (a string, a number, an object without `message`). */
export class NonErrorThrownError extends EddyError {
  static readonly code = "EDDY_NON_ERROR_THROWN";
  constructor(message: string) {
    super(NonErrorThrownError.code, message);
  }
}

/** Where a step was called: its id, its kind and its position, as errors name it. */
export interface StepPlace {
  id: string;
  kind: string;
  index: number;
}

const place = (s: StepPlace) => `step ${JSON.stringify(s.id)} (${s.kind}, step #${s.index + 1})`;

/** A workflow run called two steps with the same id: the second names the first. */
export class StepIdReusedError extends EddyError {
  static readonly code = "EDDY_STEP_ID_REUSED";
  constructor(step: StepPlace, first: StepPlace) {
    super(
      StepIdReusedError.code,
      `${place(step)} reuses the id of ${place(first)}: give every step of a run its own id (in a loop, \`charge-\${i}\`)`,
    );
  }
}

/** A replay asked for another step than the run's journal holds at that position (the code changed). */
export class NonDeterminismError extends EddyError {
  static readonly code = "EDDY_WORKFLOW_NON_DETERMINISM";
  constructor(asked: StepPlace, journaled: StepPlace) {
    super(
      NonDeterminismError.code,
      `the replay asked for ${place(asked)} where the journal holds ${place(journaled)}: a workflow ` +
        "must call the same steps in the same order on every replay (did its code change under a run in flight?)",
    );
  }
}

/** A step's JSON result is larger than the workflow's `limits.stepResultBytes`. */
export class StepResultTooLargeError extends EddyError {
  static readonly code = "EDDY_STEP_RESULT_TOO_LARGE";
  constructor(step: string, bytes: number, limit: number) {
    super(
      StepResultTooLargeError.code,
      `step ${JSON.stringify(step)} returned ${bytes} bytes of JSON, over limits.stepResultBytes (${limit})`,
    );
  }
}

/** A run called more steps than the workflow's `limits.steps`. */
export class TooManyStepsError extends EddyError {
  static readonly code = "EDDY_TOO_MANY_STEPS";
  constructor(step: string, limit: number) {
    super(
      TooManyStepsError.code,
      `step ${JSON.stringify(step)} would be step ${limit + 1} of the run, over limits.steps (${limit})`,
    );
  }
}

/** The journaled results of a run together grew over the workflow's `limits.stateBytes`. */
export class RunStateTooLargeError extends EddyError {
  static readonly code = "EDDY_RUN_STATE_TOO_LARGE";
  constructor(step: string, bytes: number, limit: number) {
    super(
      RunStateTooLargeError.code,
      `step ${JSON.stringify(step)} would bring the run's journaled results to ${bytes} bytes, over limits.stateBytes (${limit})`,
    );
  }
}

/** A step call the engine cannot take (bad arguments from the sandbox, a step of a finished run). */
export class InvalidStepError extends EddyError {
  static readonly code = "EDDY_INVALID_STEP";
  constructor(message: string) {
    super(InvalidStepError.code, message);
  }
}

/** The run was cancelled (`POST /v1/runs/ID/cancel`). */
export class RunCancelledError extends EddyError {
  static readonly code = "EDDY_RUN_CANCELLED";
  constructor(reason = "cancelled through the API") {
    super(RunCancelledError.code, `the run was cancelled: ${reason}`);
  }
}

/** The executions of a run failed without an outcome (timeouts, crashes) more times than its retries allow. */
export class RunExecutionsFailedError extends EddyError {
  static readonly code = "EDDY_RUN_EXECUTIONS_FAILED";
  constructor(times: number, last: string) {
    super(
      RunExecutionsFailedError.code,
      `the run's executions failed ${times} times in a row without reaching a step (last: ${last})`,
    );
  }
}

/** A compensation of a failed run failed for good (a saga): the run ended `compensation_failed`. */
export class CompensationFailedError extends EddyError {
  static readonly code = "EDDY_COMPENSATION_FAILED";
  constructor(step: string, cause: string) {
    super(
      CompensationFailedError.code,
      `the compensation of step ${JSON.stringify(step)} failed (${cause}); the compensations of earlier steps did not run`,
    );
  }
}

/** A child run started by `step.invoke` ended otherwise than succeeded. */
export class InvokedRunFailedError extends EddyError {
  static readonly code = "EDDY_INVOKED_RUN_FAILED";
  constructor(step: string, child: string, status: string, cause?: string) {
    super(
      InvokedRunFailedError.code,
      `step ${JSON.stringify(step)}: the invoked run ${child} ended ${status}${cause ? ` (${cause})` : ""}`,
    );
  }
}

/** A child run started by `step.invoke` did not end within the step's timeout: it was cancelled. */
export class InvokeTimeoutError extends EddyError {
  static readonly code = "EDDY_INVOKE_TIMEOUT";
  constructor(step: string, child: string, timeoutMs: number) {
    super(
      InvokeTimeoutError.code,
      `step ${JSON.stringify(step)}: the invoked run ${child} did not end within ${timeoutMs} ms; it was cancelled`,
    );
  }
}

/** `step.invoke` named a workflow that is not deployed. */
export class InvokedWorkflowNotFoundError extends EddyError {
  static readonly code = "EDDY_INVOKED_WORKFLOW_NOT_FOUND";
  constructor(step: string, workflow: string, plainFunction = false) {
    super(
      InvokedWorkflowNotFoundError.code,
      plainFunction
        ? `step ${JSON.stringify(step)}: ${JSON.stringify(workflow)} is a function, not a workflow: call it from a step.run, or define it with defineWorkflow`
        : `step ${JSON.stringify(step)}: no workflow named ${JSON.stringify(workflow)} is deployed`,
    );
  }
}

/**
 * Every condition an attempt can end with, besides what the function itself throws. A gateway
 * request's record may also end with `EDDY_GATEWAY_TIMEOUT` (an HTTP condition, errors/http.ts).
 */
export const ATTEMPT_ERRORS = [
  NonRetriableError,
  RetryAfterError,
  FunctionTimeoutError,
  FunctionOutOfMemoryError,
  SandboxCrashedError,
  SandboxHandOffError,
  InvalidResultError,
  InvalidEmitError,
  BatchItemFailedError,
  ResponseTooLargeError,
  NonErrorThrownError,
  EventTooOldError,
  MaxReceiveCountError,
  FunctionLoadError,
  InvalidFunctionConfigError,
  StepIdReusedError,
  NonDeterminismError,
  StepResultTooLargeError,
  TooManyStepsError,
  RunStateTooLargeError,
  InvalidStepError,
  RunCancelledError,
  RunExecutionsFailedError,
  CompensationFailedError,
  InvokedRunFailedError,
  InvokeTimeoutError,
  InvokedWorkflowNotFoundError,
] as const;

/** An Eddy error as an invocation or dead letter records it: name, code and message (no stack). */
export function errorInfo(err: EddyError): ErrorInfo {
  return { name: err.name, code: err.code, message: err.message };
}
