// A process sandbox is an OS boundary: a function under `eddy start --isolation process` tries every
// way out that issue 13 found (signal the server to open its inspector, kill it, reach it or anything
// else on loopback or through a Unix socket, read its command line and environment) and each fails
// inside the function, while the server keeps serving and an ordinary function still runs. Once with
// Eddy as root (namespaces + the uid nobody) and once as an unprivileged user (user namespaces).
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EddyProcess } from "./helpers.js";
import { runEddy, spawnEddy } from "./helpers.js";
import { waitFor } from "../../server/test/helpers.js";

const KEY = "sandbox-boundary-admin-key";
const auth = { authorization: `Bearer ${KEY}` };

const ATTACK = `import { defineFunction, on } from "eddy";
import fs from "node:fs";
import net from "node:net";
export default defineFunction(
  { name: "attack", triggers: [on.event({ type: ["attack"] })], retries: { maxAttempts: 1 }, timeout: "10s" },
  async (event, ctx) => {
    const d = event.data;
    const connect = (to) => new Promise((resolve, reject) => {
      const s = net.connect(to, () => { s.destroy(); resolve("connected"); });
      s.once("error", reject);
    });
    const attacks = {
      "usr1-server": () => process.kill(d.pid, "SIGUSR1"),
      "usr1-parent": () => process.kill(process.ppid, "SIGUSR1"),
      "probe-server": () => process.kill(d.pid, 0),
      "term-server": () => process.kill(d.pid, "SIGTERM"),
      "kill-server": () => process.kill(d.pid, "SIGKILL"),
      "http-loopback": () => connect({ host: "127.0.0.1", port: d.port }),
      "inspector": () => connect({ host: "127.0.0.1", port: 9229 }),
      "unix-socket": () => connect({ path: d.socket }),
      "cmdline": () => fs.readFileSync("/proc/" + d.pid + "/cmdline", "utf8"),
      "environ": () => fs.readFileSync("/proc/" + d.pid + "/environ", "utf8"),
    };
    try {
      ctx.log.info("reached", { r: String(await attacks[d.what]()) });
    } catch (e) {
      ctx.log.info("refused", { code: e.code ?? String(e) });
    }
  },
);
`;
const HELLO = `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "hello", triggers: [on.http("GET /hello", { public: true })] }, async (request, ctx) => {
  ctx.log.info("saying hello");
  return { hello: "world", uid: process.getuid() };
});
`;

/** What each attack must meet, and why. */
const REFUSALS: Record<string, string> = {
  "usr1-server": "ESRCH", // the server is in no PID namespace the sandbox can see
  "probe-server": "ESRCH",
  "term-server": "ESRCH",
  "kill-server": "ESRCH",
  "http-loopback": "ENETUNREACH", // its own network namespace: nothing, not even the host's loopback
  inspector: "ENETUNREACH",
  "unix-socket": "ENOENT", // its own root: the host's sockets are not there
  cmdline: "ERR_ACCESS_DENIED", // the permission model; the PID namespace hides the server's /proc too
  environ: "ERR_ACCESS_DENIED",
};

function tempApp(): string {
  const dir = mkdtempSync(join(tmpdir(), "eddy-boundary-"));
  mkdirSync(join(dir, "functions"));
  writeFileSync(join(dir, "functions", "attack.ts"), ATTACK);
  writeFileSync(join(dir, "functions", "hello.ts"), HELLO);
  // The unprivileged run writes its data folder here.
  chmodSync(dir, 0o777);
  chmodSync(join(dir, "functions"), 0o777);
  return dir;
}

const RUNS = [
  { as: "root", launcher: [] as string[], uid: 65534 },
  {
    as: "an unprivileged user",
    launcher: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"],
    // Root of its own user namespace, without capabilities: the server's uid outside it.
    uid: 0,
  },
];

describe.each(RUNS)("eddy start --isolation process as $as", ({ launcher, uid }) => {
  const dir = tempApp();
  const socketDir = mkdtempSync(join(tmpdir(), "eddy-boundary-sock-"));
  const socketPath = join(socketDir, "service.sock");
  let unix: Server;
  let eddy: EddyProcess;
  let port: number;
  let n = 0;

  beforeAll(async () => {
    // A local service anyone may connect to, as PostgreSQL's socket is on many hosts.
    chmodSync(socketDir, 0o755);
    unix = createServer((s) => s.end());
    await new Promise<void>((resolve) => unix.listen(socketPath, resolve));
    chmodSync(socketPath, 0o777);
    eddy = await spawnEddy(
      ["start", dir, "--port", "0", "--isolation", "process", "--admin-key", KEY, "--record-requests"],
      { EDDY_ADMIN_KEY: "" },
      30_000,
      launcher,
    );
    port = Number(new URL(eddy.url).port);
  });
  afterAll(async () => {
    await eddy?.stop();
    unix?.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(socketDir, { recursive: true, force: true });
  });

  async function attack(what: string): Promise<{ msg: string; fields: Record<string, unknown> }> {
    const id = `${what}-${++n}`;
    const data = { what, pid: eddy.child.pid, port, socket: socketPath };
    const res = await fetch(`${eddy.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json", ...auth },
      body: JSON.stringify({ specversion: "1.0", id, source: "/attacker", type: "attack", data }),
    });
    expect(res.status).toBe(202);
    const inv = await waitFor(async () => {
      const list = await fetch(`${eddy.url}/v1/invocations?function=attack&limit=100`, { headers: auth });
      const body = (await list.json()) as {
        invocations: {
          eventId: string;
          status: string;
          logs: { msg: string; fields: Record<string, unknown> }[];
        }[];
      };
      return body.invocations.find((i) => i.eventId === id && i.status !== "running");
    }, `the attempt of ${id} to end`);
    expect(inv.status).toBe("succeeded");
    return inv.logs[0]!;
  }

  it.each(Object.entries(REFUSALS))("%s is refused inside the function (%s)", async (what, code) => {
    expect(await attack(what)).toMatchObject({ msg: "refused", fields: { code } });
    expect(eddy.child.exitCode).toBeNull();
  });

  it("a signal to its parent reaches no process of the server: no inspector opens", async () => {
    // The parent it sees is the sandbox's own init, inside its namespace; signals to it are ignored.
    await attack("usr1-parent");
    expect((await fetch(`${eddy.url}/readyz`)).status).toBe(200);
    expect(eddy.output()).not.toMatch(/Debugger listening|inspector/i);
  });

  it("an ordinary function still runs, as the sandbox uid, with its logs", async () => {
    const res = await fetch(`${eddy.url}/hello`);
    expect(await res.json()).toEqual({ hello: "world", uid });
    const list = await fetch(`${eddy.url}/v1/invocations?function=hello`, { headers: auth });
    const { invocations } = (await list.json()) as { invocations: { logs: { msg: string }[] }[] };
    expect(invocations[0]!.logs.map((l) => l.msg)).toEqual(["saying hello"]);
  });

  it("the server itself ignores SIGUSR1 rather than open its inspector", async () => {
    eddy.child.kill("SIGUSR1");
    await waitFor(
      () => eddy.output().includes("SIGUSR1 ignored"),
      "the server to log that it ignored SIGUSR1",
    );
    expect(eddy.output()).not.toMatch(/Debugger listening/);
    expect((await fetch(`${eddy.url}/readyz`)).status).toBe(200);
  });
});

describe("where the host cannot confine a process", () => {
  const dir = tempApp();
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Root of a user namespace that maps no uid nobody and may make no further user namespace, as in
  // some rootless containers: neither boundary can be built.
  const confined = ["unshare", "--user", "--map-root-user", "--", "sh", "-c"];
  const script = 'echo 0 > /proc/sys/user/max_user_namespaces && exec "$@"';

  it("eddy start --isolation process refuses to start, naming the way out", async () => {
    const { code, out } = await runEddy(["start", dir, "--port", "0", "--isolation", "process"], {}, [
      ...confined,
      script,
      "sh",
    ]);
    expect(code).not.toBe(0);
    expect(out).toMatch(/cannot confine process sandboxes/);
    expect(out).toMatch(/--process-sandbox unconfined/);
  });

  it("starts with --process-sandbox unconfined, and says so", async () => {
    const eddy = await spawnEddy(
      ["start", dir, "--port", "0", "--isolation", "process", "--process-sandbox", "unconfined", "--no-auth"],
      {},
      30_000,
      [...confined, script, "sh"],
    );
    try {
      expect(await (await fetch(`${eddy.url}/hello`)).json()).toEqual({ hello: "world", uid: 0 });
      expect(eddy.output()).toMatch(/process sandboxes are unconfined/);
    } finally {
      await eddy.stop();
    }
  });
});
