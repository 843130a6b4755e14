import { EddyError } from "eddy";

/** The attempt ran past the function's `timeout`; its sandbox was terminated. */
export class FunctionTimeoutError extends EddyError {
  constructor(timeoutMs: number) {
    super("EDDY_FUNCTION_TIMEOUT", `the function did not finish within its timeout of ${timeoutMs} ms`);
  }
}

/** The sandbox ran out of its memory limit (`memoryMb`); it was terminated. */
export class FunctionOutOfMemoryError extends EddyError {
  /** `offHeapMb`: set when it was its ArrayBuffers and Buffers, which V8's heap limit does not count. */
  constructor(memoryMb: number, offHeapMb?: number) {
    super(
      "EDDY_FUNCTION_OUT_OF_MEMORY",
      `the function exceeded its memory limit of ${memoryMb} MB` +
        (offHeapMb === undefined ? "" : ` (${offHeapMb} MB of ArrayBuffers and Buffers)`),
    );
  }
}

/** The sandbox died during the attempt (process.exit, an uncaught error in a timer, a crash). */
export class SandboxCrashedError extends EddyError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super("EDDY_SANDBOX_CRASHED", `the sandbox crashed: ${detail}`, options);
  }
}

/** The function's module could not be loaded (syntax error, throws at import, bad default export). */
export class FunctionLoadError extends EddyError {
  constructor(file: string, detail: string, options?: { cause?: unknown }) {
    super("EDDY_FUNCTION_LOAD_FAILED", `${file}: ${detail}`, options);
  }
}

/**
 * The attempt could not be handed to its sandbox: its message did not serialize (structured clone
 * for a thread, IPC for a process), e.g. an event stored before the nesting limit that nests
 * thousands of levels deep. The sandbox is untouched; the delivery is retried per its policy.
 */
export class SandboxHandOffError extends EddyError {
  constructor(detail: string) {
    super("EDDY_SANDBOX_HANDOFF_FAILED", `the attempt could not be handed to the sandbox: ${detail}`);
  }
}

/**
 * What the sandbox handed back for an attempt could not be taken: its return value nests too deep,
 * all it returned (value, emits, sends, logs) is too large, or the message is malformed.
 */
export class InvalidResultError extends EddyError {
  constructor(detail: string) {
    super("EDDY_INVALID_RESULT", `the attempt's result was refused: ${detail}`);
  }
}
