/**
 * The conditions that stop a server from starting (`startEddy`, `eddy dev`, `eddy start`): the
 * store, the sandboxes, the app. The CLI prints the message and exits with status 1. docs/errors.md
 * lists each code under "Starting a server"; the cluster backend adds its own (`@eddy/cluster`).
 */
import { EddyError } from "eddy";

/** The embedded store's data folder is held by another Eddy process (SQLite's exclusive lock). */
export class StoreInUseError extends EddyError {
  static readonly code = "EDDY_STORE_IN_USE";
  constructor(path: string, options?: { cause?: unknown }) {
    super(
      StoreInUseError.code,
      `[embedded] ${path} is in use by another Eddy process; stop it or give this one another data folder`,
      options,
    );
  }
}

/** The store was written by a newer Eddy (its schema version is ahead of this one's). */
export class StoreTooNewError extends EddyError {
  static readonly code = "EDDY_STORE_TOO_NEW";
  /** `what`: `[embedded] the data file`, `[cluster] PostgreSQL schema eddy`. */
  constructor(what: string, version: number, known: number) {
    super(
      StoreTooNewError.code,
      `${what} has schema version ${version}, newer than this Eddy (${known}); upgrade Eddy`,
    );
  }
}

/** Process sandboxes were asked for where the host cannot confine them. */
export class SandboxUnconfinableError extends EddyError {
  static readonly code = "EDDY_SANDBOX_UNCONFINABLE";
  constructor(why: string) {
    super(
      SandboxUnconfinableError.code,
      `[runtime] cannot confine process sandboxes (${why}) — they need Linux with ` +
        `util-linux (unshare, setpriv) and either root or user namespaces; elsewhere start Eddy with ` +
        `--process-sandbox unconfined (Node's permission model only, see docs/functions.md)`,
    );
  }
}

/** `strict` mode (`eddy start --strict`): a function file of the app failed to bundle or load. */
export class StrictLoadError extends EddyError {
  static readonly code = "EDDY_STRICT_LOAD_FAILED";
  constructor(failures: { file: string; message: string }[]) {
    const lines = failures.map((f) => `  ${f.message.startsWith(f.file) ? "" : `${f.file}: `}${f.message}`);
    super(
      StrictLoadError.code,
      `${failures.length} function file(s) failed to load (strict mode):\n${lines.join("\n")}`,
    );
  }
}

/** Every condition of the server's own that stops it from starting. */
export const START_ERRORS = [
  StoreInUseError,
  StoreTooNewError,
  SandboxUnconfinableError,
  StrictLoadError,
] as const;
