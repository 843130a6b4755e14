import { spawn } from "node:child_process";
import type { SandboxChannel, SandboxExit } from "./channel.js";
import { ExitSlot } from "./channel.js";
import type { Boundary } from "./process-jail.js";
import { JAILED_HOST, jailedCommand } from "./process-jail.js";
import type { FromSandbox, ToSandbox } from "./protocol.js";

const STDERR_TAIL = 4096;

/** The host file a process sandbox runs and the OS boundary it runs behind (process-jail.ts). */
export interface ProcessHost {
  path: string;
  boundary: Boundary;
}

/**
 * Starts a child-process sandbox on the bundled host, behind the OS boundary of `host` (its own
 * PID, network, mount, IPC and UTS namespaces, an empty root, an unprivileged uid, no capabilities)
 * and under Node 20's permission model: it may read the host file and nothing else (the function's
 * code arrives over IPC), spawn no process, start no worker, load no native addon; its environment
 * is empty and its heap is limited to `memoryMb`. See runtime/ARCHITECTURE.md for what each layer
 * stops.
 */
export function startProcess(host: ProcessHost, memoryMb: number): SandboxChannel {
  const path = host.boundary === "none" ? host.path : JAILED_HOST;
  const [command, args] = jailedCommand(host.boundary, host.path, [
    "--experimental-permission",
    `--allow-fs-read=${path}`,
    "--no-addons",
    `--max-old-space-size=${memoryMb}`,
    "--disable-warning=ExperimentalWarning",
    path,
  ]);
  // spawn with an "ipc" stdio rather than fork: the channel (fd 3, NODE_CHANNEL_FD) survives the
  // exec of unshare, sh, chroot and setpriv on the way to Node.
  const child = spawn(command, args, {
    env: {},
    cwd: "/",
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    serialization: "advanced",
  });
  child.stdout!.resume();
  // Keep the end of stderr: V8 reports running out of heap there, and a crash explains itself there.
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_TAIL);
  });
  const slot = new ExitSlot();
  const exit = (e: SandboxExit) => slot.fire(e);
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.on("error", (err) => exit({ oom: false, detail: `the sandbox process failed: ${err.message}` }));
  child.once("exit", (code, signal) => {
    // stderr may still hold unread data at "exit"; "close" comes after the streams end.
    child.once("close", () => {
      if (/heap out of memory|Reached heap limit/i.test(stderr)) exit({ oom: true, detail: "out of memory" });
      else
        exit({
          oom: false,
          detail: signal ? `the sandbox was killed by ${signal}` : `the sandbox exited with code ${code}`,
        });
    });
  });
  return {
    kind: "process",
    send: (msg: ToSandbox, undeliverable?: (err: Error) => void) => {
      if (!child.connected) throw new Error("the sandbox process is gone");
      try {
        child.send(msg);
      } catch (err) {
        // It did not serialize (nested too deep): nothing was written, the channel is intact.
        if (undeliverable) undeliverable(err as Error);
        else exit({ oom: false, detail: `a message could not be sent to it (${(err as Error).message})` });
      }
    },
    onMessage: (listener) => void child.on("message", listener as (m: FromSandbox) => void),
    onExit: (listener) => slot.set(listener),
    kill: async () => {
      slot.silence();
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await gone;
    },
  };
}
