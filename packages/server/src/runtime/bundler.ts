import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, extname, join, relative, resolve, sep } from "node:path";
import * as sdk from "eddy";
import * as esbuild from "esbuild";
import { SDK_GLOBAL } from "./protocol.js";

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

/**
 * `import … from "eddy"` in user code is not bundled: every sandbox has the SDK loaded already (its
 * host uses it), under `Symbol.for(SDK_GLOBAL)`, and the bundle takes it from there. A cold start compiles
 * the function's own code only (the SDK is 45 KB of the 48 KB of a small function), and the SDK a
 * function runs with is the server's, as a Lambda function's runtime is AWS's. The app folder need
 * not have the SDK installed.
 */

// What the bundle sees as the module "eddy". A name the server's SDK lacks (the function was
// bundled against a newer SDK by `eddy deploy`) fails at load, saying so, rather than as undefined.
const SDK_SHIM = `const sdk = globalThis[Symbol.for(${JSON.stringify(SDK_GLOBAL)})];
if (!sdk) throw new Error("this bundle runs in an Eddy sandbox, which provides the eddy SDK");
for (const name of ${JSON.stringify(Object.keys(sdk).sort())}) {
  if (!(name in sdk)) throw new Error("eddy." + name + " is missing from the server's SDK: upgrade the server");
}
export const { ${Object.keys(sdk).sort().join(", ")} } = sdk;
`;

const sdkPlugin: esbuild.Plugin = {
  name: "eddy-sdk",
  setup(build) {
    build.onResolve({ filter: /^eddy$/ }, () => ({ path: "eddy", namespace: "eddy-sdk" }));
    build.onLoad({ filter: /.*/, namespace: "eddy-sdk" }, () => ({ contents: SDK_SHIM, loader: "js" }));
  },
};

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
 *
 * All files go through one esbuild build first (the SDK and shared modules are parsed once, which
 * is what makes an app of a thousand functions bundle in seconds); if that fails, each file is built
 * alone so that every failure is reported against its own file. Both ways give the same bytes, so
 * a file has the same version however it was bundled.
 */
export async function bundleFunctions(
  appDir: string,
  files: string[],
  outDir: string,
): Promise<{ bundles: Bundle[]; failures: BundleFailure[] }> {
  mkdirSync(outDir, { recursive: true });
  const root = resolve(appDir);
  const entries = files.map((f) => resolve(f));
  const bundles: Bundle[] = [];
  const alone: string[] = [];
  // In groups: one build holds every output in memory at once, and a thousand bundles are 50 MB.
  for (let i = 0; i < entries.length; i += GROUP) {
    const group = entries.slice(i, i + GROUP);
    try {
      if (group.length === 1) throw new Error("alone");
      bundles.push(...store(root, await build(root, group), outDir));
    } catch {
      alone.push(...group); // some file does not build: build each alone, below, to tell which
    }
  }
  const results = await Promise.all(
    alone.map(async (file) => {
      try {
        return store(root, await build(root, [file]), outDir)[0]!;
      } catch (err) {
        return { file: relative(root, file), message: await describe(err) };
      }
    }),
  );
  return {
    bundles: [...bundles, ...results.filter((r): r is Bundle => "version" in r)],
    failures: results.filter((r): r is BundleFailure => "message" in r),
  };
}

const GROUP = 100;

// Outputs are named as if written under this folder of the app (nothing is written there): source
// map paths are then relative to the app, the same for one file or many, wherever bundles are kept.
const VIRTUAL_OUT = ".eddy-out";

function build(root: string, entryPoints: string[]) {
  return esbuild.build({
    entryPoints,
    absWorkingDir: root,
    outdir: join(root, VIRTUAL_OUT),
    outbase: root,
    entryNames: "[dir]/[name]",
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "inline",
    sourcesContent: false,
    plugins: [sdkPlugin],
    banner: { js: BANNER },
    logLevel: "silent",
    metafile: true,
  });
}

/** Writes each output under `outDir` by content hash and describes it. */
function store(
  root: string,
  out: esbuild.BuildResult<{ write: false; metafile: true }>,
  outDir: string,
): Bundle[] {
  const files = new Map(out.outputFiles.map((f) => [f.path, f.contents]));
  return Object.entries(out.metafile.outputs).flatMap(([outPath, meta]) => {
    const code = files.get(resolve(root, outPath));
    if (!meta.entryPoint || !code) return [];
    const file = relative(root, resolve(root, meta.entryPoint));
    const version = versionOf(code);
    const path = join(outDir, bundleFileName(file, version));
    if (!existsSync(path)) writeFileSync(path, code);
    const inputs = Object.keys(meta.inputs)
      .map((p) => resolve(root, p))
      .filter((p) => !p.includes(`${sep}node_modules${sep}`) && p.startsWith(root));
    return [{ file, version, path, inputs }];
  });
}

async function describe(err: unknown): Promise<string> {
  const failure = err as { errors?: esbuild.Message[] };
  if (failure.errors?.length) {
    const formatted = await esbuild.formatMessages(failure.errors, { kind: "error", color: false });
    return formatted.join("").trim();
  }
  return (err as Error).message;
}
