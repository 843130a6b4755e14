/** What a function logs, with `ctx.log` or `console`, captured per attempt and bounded. */
import { format } from "node:util";
import type { FunctionLogger } from "eddy";
import type { LogLine } from "../../backends/types.js";
import { MAX_JSON_DEPTH, measureJson } from "../../events/nesting.js";
import { safeString, truncate } from "./serialize.js";

const MAX_LOG_LINES = 500;
const MAX_LOG_BYTES = 64 * 1024;
const MAX_LINE_CHARS = 8 * 1024;

/**
 * Collects the log lines of one attempt, bounded in count and bytes; what does not fit is dropped
 * and marked, so a function that logs megabytes costs a few kilobytes. Secrets are masked.
 */
export class LogBuffer {
  readonly lines: LogLine[] = [];
  truncated = false;
  #bytes = 0;
  readonly #redact: (text: string) => string;

  constructor(redact: (text: string) => string) {
    this.#redact = redact;
  }

  logger(): FunctionLogger {
    const at = (level: LogLine["level"]) => (msg: string, fields?: Record<string, unknown>) =>
      this.push(level, msg, fields);
    return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  }

  push(level: LogLine["level"], msg: unknown, fields?: Record<string, unknown>): void {
    if (this.truncated) return;
    const text = truncate(this.#redact(typeof msg === "string" ? msg : safeString(msg)), MAX_LINE_CHARS);
    const line: LogLine = { level, time: Date.now(), msg: text };
    let size = text.length;
    if (fields !== undefined) {
      // Through JSON: the line must cross the boundary (no functions, no cycles) and stay bounded.
      const json = this.#redact(safeString(fields));
      size += json.length;
      line.fields =
        json.length > MAX_LINE_CHARS ? { truncated: json.slice(0, MAX_LINE_CHARS) } : parsed(json);
    }
    if (this.lines.length >= MAX_LOG_LINES || this.#bytes + size > MAX_LOG_BYTES) {
      this.truncated = true;
      return;
    }
    this.#bytes += size;
    this.lines.push(line);
  }
}

/**
 * Sends `console.*` of the sandbox into the current attempt's log buffer (Lambda handlers log with
 * `console.log`), and drops it between attempts: a timer that logs after its attempt, or a function
 * that floods the console, never reaches the server's output.
 */
export function captureConsole(current: () => LogBuffer | undefined): void {
  const to =
    (level: LogLine["level"]) =>
    (...args: unknown[]) =>
      current()?.push(level, format(...args));
  const c = globalThis.console as unknown as Record<string, unknown>;
  c.log = c.info = to("info");
  c.debug = c.trace = to("debug");
  c.warn = to("warn");
  c.error = to("error");
}

/** Log fields from their JSON, or their text when they are not a JSON object of bounded depth. */
function parsed(json: string): Record<string, unknown> {
  try {
    const v = JSON.parse(json) as unknown;
    if (
      typeof v === "object" &&
      v !== null &&
      !measureJson(v, { maxDepth: MAX_JSON_DEPTH, maxSize: Infinity })
    )
      return v as Record<string, unknown>;
  } catch {
    // Not JSON: String() of something JSON could not write.
  }
  return { truncated: json };
}
