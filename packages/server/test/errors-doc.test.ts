import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { PROBLEM_CODES } from "@eddy/server";

it("documents every HTTP error code in docs/errors.md with its status", () => {
  const doc = readFileSync(new URL("../../../docs/errors.md", import.meta.url), "utf8");
  for (const [code, status] of Object.entries(PROBLEM_CODES)) {
    const row = doc.split("\n").find((l) => l.includes(`\`${code}\``));
    expect(row, `${code} is missing from docs/errors.md`).toBeDefined();
    expect(row).toContain(`| ${status} |`);
    expect(row).toContain(`id="${code.toLowerCase()}"`);
  }
});
