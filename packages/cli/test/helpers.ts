import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The `eddy` launcher of this repository. */
export const EDDY_BIN = fileURLToPath(new URL("../bin/eddy.js", import.meta.url));
/** The repository root. */
export const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/** A running `eddy dev|start` process. */
export interface EddyProcess {
  url: string;
  child: ChildProcess;
  output: () => string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  kill9(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

/**
 * The command line of `eddy <args>`, run through `launcher` if given (a command that ends by
 * exec'ing its arguments, such as `setpriv --reuid=65534 …`).
 */
function eddyCommand(args: string[], launcher: string[]): [string, string[]] {
  const [first, ...rest] = [...launcher, process.execPath, EDDY_BIN, ...args];
  return [first!, rest];
}

/** Starts `eddy <args>` and resolves once it prints the URL it serves on. */
export function spawnEddy(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 20_000,
  launcher: string[] = [],
): Promise<EddyProcess> {
  const child = spawn(...eddyCommand(args, launcher), {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  live.add(child);
  let out = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => (live.delete(child), resolve())));
  return new Promise<EddyProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`eddy ${args.join(" ")} did not become ready in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /(?:ready on |"url":")(http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          output: () => out,
          async stop(graceMs = 10_000) {
            if (child.exitCode !== null) return;
            child.kill("SIGTERM");
            const t = setTimeout(() => child.kill("SIGKILL"), graceMs);
            await exited;
            clearTimeout(t);
          },
          async kill9() {
            child.kill("SIGKILL");
            await exited;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`eddy ${args.join(" ")} exited with ${code}:\n${out}`));
    });
  });
}

/** Runs `eddy <args>` to completion. */
export function runEddy(
  args: string[],
  env: Record<string, string> = {},
  launcher: string[] = [],
): Promise<{ code: number; out: string }> {
  const child = spawn(...eddyCommand(args, launcher), { cwd: REPO, env: { ...process.env, ...env } });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  return new Promise((resolve) => child.once("exit", (code) => resolve({ code: code ?? 1, out })));
}
