import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, extname, join, relative, resolve, sep } from "node:path";
import * as esbuild from "esbuild";

/** One bundled function module. */
export interface Bundle {
  /** Path of the source file, relative to the app folder. */
  file: string;
  /** Content hash of the bundle: the function version. */
  version: string;
  /** Where the bundle is stored (content-addressed, never overwritten). */
  path: string;
  /** The app's own source files in it (absolute; not node_modules): what `eddy dev` watches. */
  inputs?: string[];
}

/** A source file that failed to bundle, with esbuild's messages. */
export interface BundleFailure {
  file: string;
  message: string;
}

// `import … from "eddy"` in user code resolves to this server's own SDK, whether or not the app
// folder has it installed; it is bundled in, so a sandbox needs nothing outside its bundle.
const require = createRequire(import.meta.url);
const SDK_ENTRY = require.resolve("eddy");

// ESM bundles on Node have no `require`; CommonJS dependencies of user code need one. A process
// sandbox imports the bundle from a data: URL, which createRequire does not take: any file URL
// serves there, since the bundle holds all its code and only requires Node's built-ins.
const BANNER =
  "import { createRequire as __eddyCreateRequire } from 'node:module';\n" +
  "const require = __eddyCreateRequire(import.meta.url.startsWith('file:') ? import.meta.url : 'file:///');";

/** The version of a bundle: the first 16 hex digits of the SHA-256 of its code. */
export function versionOf(code: Uint8Array): string {
  return createHash("sha256").update(code).digest("hex").slice(0, 16);
}

/** Where a bundle is stored, by source file and version: `<name>.<version>.mjs`. */
export function bundleFileName(file: string, version: string): string {
  return `${basename(file, extname(file))}.${version}.mjs`;
}

/**
 * Bundles each entry file into one self-contained ES module under `outDir`, named by content hash.
 * Failures are reported per file; the others still bundle.
 */
export async function bundleFunctions(
  appDir: string,
  files: string[],
  outDir: string,
): Promise<{ bundles: Bundle[]; failures: BundleFailure[] }> {
  mkdirSync(outDir, { recursive: true });
  const root = resolve(appDir);
  const results = await Promise.all(files.map((f) => bundleOne(root, resolve(f), outDir)));
  return {
    bundles: results.filter((r): r is Bundle => "version" in r),
    failures: results.filter((r): r is BundleFailure => "message" in r),
  };
}

async function bundleOne(appDir: string, file: string, outDir: string): Promise<Bundle | BundleFailure> {
  const rel = relative(appDir, file);
  try {
    const out = await esbuild.build({
      entryPoints: [file],
      absWorkingDir: appDir,
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "inline",
      sourcesContent: false,
      alias: { eddy: SDK_ENTRY },
      banner: { js: BANNER },
      logLevel: "silent",
      metafile: true,
    });
    const code = out.outputFiles[0]!.contents;
    const version = versionOf(code);
    const path = join(outDir, bundleFileName(rel, version));
    if (!existsSync(path)) writeFileSync(path, code);
    const inputs = Object.keys(out.metafile.inputs)
      .map((p) => resolve(appDir, p))
      .filter((p) => !p.includes(`${sep}node_modules${sep}`) && p.startsWith(appDir));
    return { file: rel, version, path, inputs };
  } catch (err) {
    const failure = err as { errors?: esbuild.Message[] };
    if (failure.errors?.length) {
      const formatted = await esbuild.formatMessages(failure.errors, { kind: "error", color: false });
      return { file: rel, message: formatted.join("").trim() };
    }
    return { file: rel, message: (err as Error).message };
  }
}
