import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const ENTRY = fileURLToPath(new URL("./worker/process-entry.js", import.meta.url));
const built = new Map<string, Promise<string>>();

/**
 * The process sandbox's host as one self-contained file under `dir`, built once per directory and
 * named by content hash. One file because the permission model lets the process read exactly the
 * files it is told; the host, the protocol and the SDK must all be in it.
 */
export function processHostPath(dir: string): Promise<string> {
  let p = built.get(dir);
  if (!p) {
    p = build(dir);
    built.set(dir, p);
    p.catch(() => built.delete(dir));
  }
  return p;
}

async function build(dir: string): Promise<string> {
  const out = await esbuild.build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    // Error classes are named after themselves (EddyError sets name from the class): without this,
    // esbuild renames a class whose name collides in the bundle (InvalidResultError became
    // _InvalidResultError) and records would carry the wrong name.
    keepNames: true,
    logLevel: "silent",
  });
  const code = out.outputFiles[0]!.contents;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  const path = join(dir, `process-host.${hash}.mjs`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    // Through a temporary name: a sandbox must never start on a half-written host.
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, path);
  }
  // Readable by the sandbox's unprivileged uid whatever the umask: it is Eddy's own code, no secret
  // (the folders above it need not be: the sandbox sees the file alone, bind-mounted).
  chmodSync(path, 0o644);
  return path;
}
