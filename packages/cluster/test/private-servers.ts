// NATS and PostgreSQL servers that a test starts, kills and restarts itself: the same binaries as
// the machine's services, on their own ports and data folders, so that restarting them disturbs
// no other test (or engineer) using the shared ones, and only processes the test started are killed.
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const NATS_BIN = process.env.EDDY_TEST_NATS_BIN ?? "/usr/sbin/nats-server";
const PG_BIN = process.env.EDDY_TEST_PG_BIN ?? findPgBin();

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function waitPort(port: number, up: boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once("error", () => resolve(true)); // in use: the server listens
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (open === up) return;
    if (Date.now() > deadline)
      throw new Error(`port ${port} did not go ${up ? "up" : "down"} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A nats-server with JetStream on a free port and its own store folder. */
export class PrivateNats {
  readonly dir = mkdtempSync(join(tmpdir(), "eddy-nats-"));
  port = 0;
  #child: ChildProcess | undefined;

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Starts it (again, with the same command and store) and waits until it listens. */
  async start(): Promise<void> {
    if (this.#child && this.#child.exitCode === null && this.#child.signalCode === null) return;
    if (this.port === 0) this.port = await freePort();
    const child = spawn(NATS_BIN, ["-a", "127.0.0.1", "-p", String(this.port), "-js", "-sd", this.dir], {
      stdio: "ignore",
    });
    this.#child = child;
    await waitPort(this.port, true);
  }

  /** SIGKILL: no chance to flush anything. */
  async kill9(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    await waitPort(this.port, false);
  }

  /** Stops it for good and removes its store. */
  async dispose(): Promise<void> {
    await this.kill9();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A PostgreSQL cluster (initdb) on a free port and its own data folder, trust auth. */
export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "eddy-pg-"));
  port = 0;

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** initdb (once) and start; waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.port === 0) {
      this.port = await freePort();
      const data = join(this.dir, "data");
      if (isRoot()) chownSync(this.dir, uid("postgres"), gid("postgres"));
      this.#pg("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync"]);
    }
    if (existsSync(join(this.dir, "data", "postmaster.pid"))) return; // running
    this.#pg("pg_ctl", [
      "-D",
      join(this.dir, "data"),
      "-o",
      `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1`,
      "-l",
      join(this.dir, "log"),
      "-w",
      "start",
    ]);
    await waitPort(this.port, true);
  }

  /** Stops like a crash (`-m immediate`: no checkpoint; the restart recovers from the WAL). */
  async crash(): Promise<void> {
    if (!existsSync(join(this.dir, "data", "postmaster.pid"))) return;
    this.#pg("pg_ctl", ["-D", join(this.dir, "data"), "-m", "immediate", "-w", "stop"]);
    await waitPort(this.port, false);
  }

  /** Stops it for good and removes its data. */
  async dispose(): Promise<void> {
    try {
      await this.crash();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  #pg(tool: string, args: string[]): void {
    const bin = join(PG_BIN, tool);
    // PostgreSQL refuses to run as root: run its tools as the postgres user then.
    if (isRoot()) execFileSync("runuser", ["-u", "postgres", "--", bin, ...args], { stdio: "ignore" });
    else execFileSync(bin, args, { stdio: "ignore" });
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

function uid(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}

function gid(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}

function findPgBin(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return "";
  const versions = execFileSync("ls", [root]).toString().trim().split("\n").sort();
  return join(root, versions[versions.length - 1] ?? "", "bin");
}
