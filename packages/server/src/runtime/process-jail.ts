import { spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { SandboxUnconfinableError } from "../errors/start.js";

/**
 * How process sandboxes are confined. `"namespaced"` (the default): each process runs in its own
 * PID, network, mount, IPC and UTS namespaces, chrooted into an empty read-only root holding only
 * the system's libraries, the Node binary and the host file, without capabilities, as an
 * unprivileged uid; Eddy refuses to start one when the host cannot do that. `"unconfined"`: Node's
 * permission model only, no OS boundary (a host without namespaces, such as macOS); see
 * runtime/ARCHITECTURE.md for what that leaves open.
 */
export type ProcessSandboxMode = "namespaced" | "unconfined";

/**
 * The OS boundary a process sandbox runs behind: `root` (Eddy runs as root: namespaces, then the
 * uid {@link SANDBOX_UID}), `userns` (not root: a user namespace makes the same namespaces, the
 * uid stays the server's outside it but can address nothing of the host), or `none`.
 */
export type Boundary = "root" | "userns" | "none";

/** The uid and gid process sandboxes run as when Eddy runs as root: `nobody` / `nogroup`. */
export const SANDBOX_UID = 65534;
/** Where the host file and the Node binary appear inside the sandbox's root. */
export const JAILED_HOST = "/eddy/host.mjs";
const JAILED_NODE = "/eddy/node";

// Runs as root of the new namespaces (real root, or root of the user namespace), before the sandbox
// exists: builds its root in a tmpfs over /tmp (private to this mount namespace), then runs Node in
// it without capabilities. Not `exec`: this shell stays PID 1 of the namespace, so Node is an
// ordinary process (a signal it sends itself works), and when the server kills `unshare`, the
// shell gets SIGKILL (`--kill-child`) and the kernel kills everything in the namespace with it.
const SCRIPT = `set -eu
PATH=/usr/sbin:/usr/bin:/sbin:/bin
host=$1 node=$2 uid=$3
shift 3
# Open them before /tmp is covered: either may live there.
exec 8<"$host" 9<"$node"
R=/tmp
mount -t tmpfs -o size=64k,mode=755,nosuid,nodev eddy-sandbox "$R"
cd "$R"
for d in usr bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$d"
  elif [ -d "/$d" ]; then mkdir "$d"; mount --bind -o ro,nosuid "/$d" "$d"
  fi
done
mkdir etc dev proc eddy
[ ! -e /etc/ld.so.cache ] || { : > etc/ld.so.cache; mount --bind -o ro /etc/ld.so.cache etc/ld.so.cache; }
for f in null zero random urandom; do : > "dev/$f"; mount --bind "/dev/$f" "dev/$f"; done
: > eddy/host.mjs; mount --bind -o ro /proc/self/fd/8 eddy/host.mjs
: > eddy/node; mount --bind -o ro /proc/self/fd/9 eddy/node
exec 8<&- 9<&-
mount -t proc -o nosuid,nodev,noexec proc proc
mount -o remount,bind,ro,nosuid,nodev "$R"
unset PWD OLDPWD
if [ "$uid" = keep ]; then
  chroot "$R" setpriv --inh-caps=-all --bounding-set=-all --no-new-privs --pdeathsig SIGKILL -- ${JAILED_NODE} "$@"
else
  chroot "$R" setpriv --reuid="$uid" --regid="$uid" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs --pdeathsig SIGKILL -- ${JAILED_NODE} "$@"
fi
`;

const NAMESPACES = ["--pid", "--fork", "--kill-child", "--mount", "--net", "--ipc", "--uts"];

/**
 * The command that runs `node <nodeArgs>` in a sandbox behind `boundary`, with `hostPath` visible
 * at {@link JAILED_HOST}. For `none`, Node itself.
 */
export function jailedCommand(boundary: Boundary, hostPath: string, nodeArgs: string[]): [string, string[]] {
  if (boundary === "none") return [process.execPath, nodeArgs];
  const user = boundary === "userns" ? ["--user", "--map-root-user"] : [];
  const uid = boundary === "userns" ? "keep" : String(SANDBOX_UID);
  return [
    find("unshare"),
    [
      ...user,
      ...NAMESPACES,
      "--",
      find("sh"),
      "-c",
      SCRIPT,
      "sh",
      hostPath,
      process.execPath,
      uid,
      ...nodeArgs,
    ],
  ];
}

const probes = new Map<string, Promise<Boundary>>();

/**
 * The boundary process sandboxes get on this host, checked once per host file by starting one
 * sandbox that reads it (a failure is kept too: it is the host's, and retrying would start a
 * process per sandbox asked for). Rejects, naming what is missing and the way out, when `mode` is
 * `"namespaced"` and the host cannot confine a process.
 */
export function processBoundary(hostPath: string, mode: ProcessSandboxMode): Promise<Boundary> {
  if (mode === "unconfined") return Promise.resolve("none");
  let p = probes.get(hostPath);
  if (!p) {
    p = probe(hostPath);
    probes.set(hostPath, p);
  }
  return p;
}

// As root, a namespace and the uid nobody; otherwise (or where root cannot switch to nobody, as in
// a rootless container) a user namespace.
async function probe(hostPath: string): Promise<Boundary> {
  const candidates: Boundary[] = process.getuid?.() === 0 ? ["root", "userns"] : ["userns"];
  const why: string[] = [];
  for (const boundary of candidates) {
    try {
      const [cmd, args] = jailedCommand(boundary, hostPath, [
        "--experimental-permission",
        `--allow-fs-read=${JAILED_HOST}`,
        "--disable-warning=ExperimentalWarning",
        "-e",
        `require("node:fs").readFileSync(${JSON.stringify(JAILED_HOST)})`,
      ]);
      const { code, stderr } = await run(cmd, args);
      if (code === 0) return boundary;
      why.push(`${boundary}: ${(stderr.trim() || `exit code ${code}`).slice(-300)}`);
    } catch (err) {
      why.push(`${boundary}: ${(err as Error).message}`);
    }
  }
  throw new SandboxUnconfinableError(why.join("; "));
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: {}, cwd: "/", stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4096)));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr }));
  });
}

/** An absolute path for a system tool: sandboxes start with an empty environment, so no PATH. */
function find(tool: string): string {
  for (const dir of ["/usr/bin", "/bin", "/usr/sbin", "/sbin"]) {
    try {
      accessSync(`${dir}/${tool}`, constants.X_OK);
      return `${dir}/${tool}`;
    } catch {
      // next
    }
  }
  throw new Error(`${tool} not found in /usr/bin, /bin, /usr/sbin or /sbin`);
}
