// Recorded conformance cases live beside the repository, in ../shared/conformance (see its
// README): read at run time, never copied into the project.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * Reads `name` from `../shared/conformance/` of the repository, or of a folder above it (a git
 * worktree sits one level deeper than its main checkout); `EDDY_CONFORMANCE_DIR` overrides. Throws
 * naming every place it looked: a missing file fails the test, it never skips it.
 */
export function readConformance<T>(name: string): T {
  const tried: string[] = [];
  const candidates = process.env.EDDY_CONFORMANCE_DIR ? [resolve(process.env.EDDY_CONFORMANCE_DIR)] : [];
  for (let dir = REPO_ROOT; ; dir = dirname(dir)) {
    candidates.push(join(dir, "..", "shared", "conformance"));
    if (dirname(dir) === dir) break;
  }
  for (const dir of candidates) {
    const file = join(dir, name);
    tried.push(file);
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as T;
  }
  throw new Error(
    `conformance cases ${name} not found; looked at:\n  ${[...new Set(tried)].join("\n  ")}\n` +
      "put the shared conformance folder at ../shared/conformance of the repository or set EDDY_CONFORMANCE_DIR",
  );
}

/** Runs `work` over `items` with at most `limit` in flight, in order of the results. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}
