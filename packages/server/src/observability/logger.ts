import { pino } from "pino";
import type { Logger as PinoLogger } from "pino";

/** The platform's structured logger (pino): JSON lines on stdout. */
export type Logger = PinoLogger;

/**
 * Creates the platform logger.
 *
 * @example
 * const log = createLogger({ level: "info" });
 * log.info({ port: 8080 }, "listening");
 */
export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    { level: options.level ?? process.env.EDDY_LOG_LEVEL ?? "info", base: { svc: "eddy" } },
    options.destination ?? process.stdout,
  );
}
