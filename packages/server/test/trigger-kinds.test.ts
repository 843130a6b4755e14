// Trigger kinds are modules listed in two registries (the SDK's TRIGGER_KINDS and the server's
// triggerKinds()) and a table of docs/architecture.md; nothing else may switch on a kind's name.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TRIGGER_KINDS } from "eddy/internal";
import { describe, expect, it } from "vitest";
import { triggerKinds } from "../src/triggers/index.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

/** The rows of the kinds table under "Adding a trigger kind": kind, SDK module, server folder. */
function documented(): { kind: string; sdk: string; server: string }[] {
  const doc = readFileSync(join(root, "docs/architecture.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Adding a trigger kind"));
  const rows = [...section.matchAll(/^\| `(\w+)` \| `([^`]+)` \| `([^`]+)` \|/gm)];
  return rows.map(([, kind, sdk, server]) => ({ kind: kind!, sdk: sdk!, server: server! }));
}

/**
 * Files that may name kinds, and why (docs/architecture.md lists the first three). Anything else
 * switching on a kind belongs in that kind's module.
 */
const EXCEPTIONS: Record<string, string> = {
  "packages/server/src/runtime/worker/module.ts": "the Lambda adapter gives each kind AWS's event shape",
  "packages/server/src/dispatch/attempt.ts": "the Lambda adapter gives SQS records to queue consumers",
  "packages/cli/src/commands/dlq.ts": "eddy dlq reads the queue a function consumes from its triggers",
  "packages/cli/src/commands/observe.ts":
    "the kind of a trace node (an event or an invocation), not a trigger's",
};

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".ts"))
    .map((f) => join(dir, f));
}

describe("trigger kinds", () => {
  it("are the same in the SDK's registry, the server's and the architecture docs", () => {
    const sdk = Object.keys(TRIGGER_KINDS).sort();
    expect(
      triggerKinds()
        .map((k) => k.kind)
        .sort(),
    ).toEqual(sdk);
    const rows = documented();
    expect(rows.map((r) => r.kind).sort()).toEqual(sdk);
    for (const r of rows) {
      expect(existsSync(join(root, "packages/eddy/src", r.sdk)), r.sdk).toBe(true);
      expect(existsSync(join(root, "packages/server/src", r.server, "index.ts")), r.server).toBe(true);
    }
  });

  it("are switched on only in their own modules", () => {
    const names = Object.keys(TRIGGER_KINDS).join("|");
    const a = `["'](?:${names})["']`;
    const switching = new RegExp(`kind\\s*[!=]==\\s*${a}|case\\s+${a}|\\[(?:${a},\\s*)+${a}\\]`);
    const offenders = ["packages/eddy/src", "packages/server/src", "packages/cli/src", "packages/cluster/src"]
      .flatMap(sources)
      .filter((f) => !/\/triggers\//.test(f) && !f.startsWith("packages/server/src/gateway/"))
      .filter((f) => !(f in EXCEPTIONS))
      .filter((f) => switching.test(readFileSync(join(root, f), "utf8")));
    expect(offenders).toEqual([]);
  });
});
