/**
 * The transport under a sandbox: a worker thread or a child process. The protocol on top
 * (sandbox.ts) does not know which; only launching and the reading of a death differ.
 */
import type { FromSandbox, ToSandbox } from "./protocol.js";

/** Where a sandbox runs: a worker thread (fast, trusted code) or a child process (permission model). */
export type SandboxKind = "thread" | "process";

/** Why a sandbox went away. */
export interface SandboxExit {
  /** It hit its heap limit. */
  oom: boolean;
  /** For the error message: "the sandbox exited with code 3", "uncaught TypeError: …". */
  detail: string;
}

/** A live connection to one sandbox. */
export interface SandboxChannel {
  readonly kind: SandboxKind;
  /**
   * Posts a message; throws if the sandbox is gone. A message that does not serialize (structured
   * clone, IPC) is not sent and never throws: `undeliverable` is called, at once or at the end of the
   * turn (a thread's messages of one turn travel together), or without it the sandbox is reported
   * dead (`onExit`).
   */
  send(msg: ToSandbox, undeliverable?: (err: Error) => void): void;
  /** Registers the (single) message listener. */
  onMessage(listener: (msg: FromSandbox) => void): void;
  /** Registers the (single) listener of the sandbox's death; called at most once. */
  onExit(listener: (exit: SandboxExit) => void): void;
  /** Stops the sandbox at once (no cleanup runs inside it); resolves when it is gone. */
  kill(): Promise<void>;
}

/** The exit listener of a channel: reports the first death only, and none after a kill. */
export class ExitSlot {
  #listener: ((exit: SandboxExit) => void) | undefined;
  #done = false;

  /** Registers the listener (SandboxChannel.onExit). */
  set(listener: (exit: SandboxExit) => void): void {
    this.#listener = listener;
  }

  /** Reports a death, unless one was reported or the sandbox was killed on purpose. */
  fire(exit: SandboxExit): void {
    if (this.#done) return;
    this.#done = true;
    this.#listener?.(exit);
  }

  /** The sandbox is being killed on purpose: its death is no news. */
  silence(): void {
    this.#done = true;
  }
}
