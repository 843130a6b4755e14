/**
 * The conditions the `eddy` command ends with: one class per condition, each with its code and the
 * exit status the command returns (`main` prints `eddy: <message>` to stderr). docs/errors.md lists
 * each under "CLI"; packages/server/test/errors-doc.test.ts checks both ways. A server that cannot
 * start ends the command with its own conditions ("Starting a server"), also with status 1.
 */
import { EddyError } from "eddy";

/** Exit status of every failed command (commander's usage errors included). */
export const FAILURE_EXIT = 1;

/** The base of the CLI's conditions. */
export class CliError extends EddyError {
  static readonly exitCode: number = FAILURE_EXIT;
  /** The command's exit status. */
  readonly exitCode: number = FAILURE_EXIT;
}

/** The base class of one CLI condition: its code, a message that says what to do, a cause. */
function cliError<C extends string>(code: C) {
  return class extends CliError {
    static readonly code: C = code;
    constructor(message: string, options?: { cause?: unknown }) {
      super(code, message, options);
    }
  };
}

/** An option, argument or combination of them that the command cannot take. */
export class UsageError extends cliError("EDDY_CLI_USAGE") {}

/** `eddy.config.json` or an `--env-file` cannot be read, or holds a setting the CLI does not take. */
export class InvalidConfigError extends cliError("EDDY_CLI_INVALID_CONFIG") {}

/** No Eddy server answers at the URL. */
export class ServerUnreachableError extends cliError("EDDY_CLI_UNREACHABLE") {}

/** The server refused the request (its problem's status, detail and fields are in the message). */
export class RequestRefusedError extends cliError("EDDY_CLI_REFUSED") {}

/** The command names a function the server does not run. */
export class FunctionNotDeployedError extends cliError("EDDY_CLI_NOT_DEPLOYED") {}

/** `eddy deploy`: the app has no functions, or some failed to bundle; nothing was deployed. */
export class NothingDeployedError extends cliError("EDDY_CLI_NOTHING_DEPLOYED") {}

/** `eddy dev` / `eddy start`: the port is taken (by another eddy, most likely). */
export class PortInUseError extends cliError("EDDY_CLI_PORT_IN_USE") {}

/** `--backend cluster` without the optional `@eddy/cluster` package installed. */
export class ClusterNotInstalledError extends cliError("EDDY_CLI_CLUSTER_NOT_INSTALLED") {
  constructor(options?: { cause?: unknown }) {
    super("--backend cluster needs the @eddy/cluster package: npm install @eddy/cluster", options);
  }
}

/** Every condition of the CLI. */
export const CLI_ERRORS = [
  UsageError,
  InvalidConfigError,
  ServerUnreachableError,
  RequestRefusedError,
  FunctionNotDeployedError,
  NothingDeployedError,
  ClusterNotInstalledError,
  PortInUseError,
] as const;
