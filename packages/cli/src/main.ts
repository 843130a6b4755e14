import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { registerDeliveriesCommand } from "./commands/deliveries.js";
import { registerDlqCommand } from "./commands/dlq.js";
import { registerGraphCommand } from "./commands/graph.js";
import { registerObserveCommands } from "./commands/observe.js";
import { registerDeployCommands } from "./commands/deploy.js";
import { registerKeyCommands } from "./commands/keys.js";
import { registerRunCommands } from "./commands/run.js";
import { registerRunsCommand } from "./commands/runs.js";
import { registerSendCommand } from "./commands/send.js";
import { CliError, FAILURE_EXIT } from "./errors.js";

export { CLI_ERRORS, FAILURE_EXIT } from "./errors.js";

/** This package's version (dist/main.js sits one folder below package.json). */
const VERSION = (
  JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }
).version;

/**
 * Runs the `eddy` command line and resolves with the exit code.
 *
 * @example
 * process.exitCode = await main(["send", "order.placed", "--data", "{}"]);
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command("eddy")
    .description("Eddy: event-driven serverless functions in TypeScript, self-hosted")
    .version(VERSION, "-V, --version", "print the version of eddy")
    .exitOverride()
    .showHelpAfterError("(run eddy --help for usage)");
  registerRunCommands(program);
  registerSendCommand(program);
  registerDlqCommand(program);
  registerDeliveriesCommand(program);
  registerRunsCommand(program);
  registerObserveCommands(program);
  registerGraphCommand(program);
  registerDeployCommands(program);
  registerKeyCommands(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return typeof process.exitCode === "number" ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    process.stderr.write(`eddy: ${(err as Error).message}\n`);
    return err instanceof CliError ? err.exitCode : FAILURE_EXIT;
  }
}
