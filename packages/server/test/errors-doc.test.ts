// Every table of docs/errors.md against the registry in the code, both ways: each registered
// condition is documented (with its status, name or exit status), and each documented code is
// one the code has. A new condition is added to its registry and to its table, or this fails.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EddyError, InvalidPatternError } from "eddy";
import {
  ATTEMPT_ERRORS,
  HTTP_ERROR_CLASSES,
  HTTP_ERRORS,
  PROBLEM_CODES,
  problem,
  START_ERRORS,
} from "@eddy/server";
import { CLUSTER_START_ERRORS } from "@eddy/cluster";
import { CLI_ERRORS } from "../../cli/src/errors.js";

const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");

/** The rows of the table under `## heading`, each as its cells (the header and rule left out). */
function table(heading: string): { code: string; cells: string[]; line: string }[] {
  const section = doc.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  expect(section, `docs/errors.md has no "## ${heading}" section`).toBeDefined();
  const rows = section!.split("\n").filter((l) => l.startsWith("|"));
  return rows.slice(2).map((line) => {
    const cells = line
      .slice(1, -1)
      .split(" | ")
      .map((c) => c.trim());
    const code = /`(EDDY_[A-Z_]+)`/.exec(cells[0]!)?.[1];
    expect(code, `no code in the first cell of ${line}`).toBeDefined();
    return { code: code!, cells, line };
  });
}

/** Documented codes, and registered ones, are the same set, each once. */
function sameCodes(documented: string[], registered: string[]) {
  expect(new Set(documented).size, "a code is documented twice").toBe(documented.length);
  expect([...documented].sort()).toEqual([...registered].sort());
}

/**
 * The table under `heading` documents exactly `classes`, each once, and its second column is
 * `second(class)` (the class name, or the exit status).
 */
function checkTable<C extends { code: string; name: string }>(
  heading: string,
  classes: readonly C[],
  second: (c: C) => string,
) {
  const rows = table(heading);
  sameCodes(
    rows.map((r) => r.code),
    classes.map((c) => c.code),
  );
  for (const c of classes) expect(rows.find((r) => r.code === c.code)!.cells[1], c.code).toBe(second(c));
}

describe("docs/errors.md", () => {
  it("HTTP API: documents every registered code with its status and anchor, and no other", () => {
    const rows = table("HTTP API");
    sameCodes(
      rows.map((r) => r.code),
      Object.keys(HTTP_ERRORS),
    );
    for (const { code, cells, line } of rows) {
      expect(cells[1], code).toBe(String(PROBLEM_CODES[code as keyof typeof PROBLEM_CODES]));
      expect(line).toContain(`id="${code.toLowerCase()}"`);
    }
  });

  it("HTTP API: each code's class carries its code and status, and problem() answers it", () => {
    for (const [code, Class] of Object.entries(HTTP_ERROR_CLASSES)) {
      const err =
        Class === InvalidPatternError
          ? new InvalidPatternError("data.total", "bad")
          : new (Class as new (message: string) => EddyError)("x");
      expect(err).toBeInstanceOf(EddyError);
      expect(err.code).toBe(code);
      expect(err.status).toBe(PROBLEM_CODES[code as keyof typeof PROBLEM_CODES]);
      expect(err.name).toBe(Class.name);
      expect(problem(err.code as keyof typeof PROBLEM_CODES, "t", "d").status).toBe(err.status);
    }
  });

  it("problem() refuses a code that is not registered instead of answering 500", () => {
    // @ts-expect-error: an unknown code does not compile
    expect(() => problem("EDDY_NO_SUCH_CODE", "t", "d")).toThrow(/not a code of HTTP_ERRORS/);
  });

  it("Function attempts: documents every condition with its class name, and no other", () => {
    checkTable("Function attempts", ATTEMPT_ERRORS, (c) => `\`${c.name}\``);
    for (const Class of ATTEMPT_ERRORS) expect(Class.name).toMatch(/Error$/);
  });

  it("Starting a server: documents every condition of the server and the cluster, and no other", () => {
    checkTable("Starting a server", [...START_ERRORS, ...CLUSTER_START_ERRORS], (c) => `\`${c.name}\``);
  });

  it("CLI: documents every condition of the eddy command with its exit status, and no other", () => {
    checkTable("CLI", CLI_ERRORS, (c) => String(c.exitCode));
  });
});
