// The SDK's public surface is what docs/sdk.md lists: every export of `eddy` (types included) is
// documented there, and every name documented there is exported. Helpers shared with the server
// and the CLI go to `eddy/internal` instead.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = (path: string) => fileURLToPath(new URL(`../../../${path}`, import.meta.url));

/** The names in the first column of every table of docs/sdk.md. */
function documented(): Set<string> {
  const names = new Set<string>();
  for (const line of readFileSync(root("docs/sdk.md"), "utf8").split("\n")) {
    const cell = /^\|([^|]*)\|/.exec(line)?.[1];
    if (!cell) continue;
    for (const m of cell.matchAll(/`([A-Za-z_$][\w$]*)`/g)) names.add(m[1]!);
  }
  return names;
}

/** Every name `eddy`'s entry point exports, types and values, as the compiler sees it. */
function exported(): Set<string> {
  const entry = root("packages/eddy/src/index.ts");
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ["lib.es2023.d.ts", "lib.dom.d.ts"],
    types: [],
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return new Set(checker.getExportsOfModule(module).map((s) => s.name));
}

describe("the SDK's public surface", () => {
  it("is exactly what docs/sdk.md lists", () => {
    const docs = documented();
    const api = exported();
    expect([...api].filter((n) => !docs.has(n)).sort(), "exported but not in docs/sdk.md").toEqual([]);
    expect([...docs].filter((n) => !api.has(n)).sort(), "in docs/sdk.md but not exported").toEqual([]);
  });

  it("leaks no internal helper at run time", async () => {
    const sdk = await import("eddy");
    const docs = documented();
    expect(Object.keys(sdk).filter((n) => !docs.has(n))).toEqual([]);
    const internal = await import("eddy/internal");
    expect(Object.keys(internal).filter((n) => n in sdk)).toEqual([]);
  });
});
