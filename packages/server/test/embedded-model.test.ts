import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openEmbeddedBackend } from "@eddy/server";
import { describeModelContract } from "@eddy/server/contract";

const dir = mkdtempSync(join(tmpdir(), "eddy-model-"));
let n = 0;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

// On a manual clock: leases end, retries come due and keys expire as the run advances it.
describeModelContract("embedded", {
  manualClock: true,
  exact: true,
  runs: 150,
  create: (clock) =>
    Promise.resolve(
      openEmbeddedBackend({ path: join(dir, `db-${++n}.sqlite`), ...(clock ? { clock } : {}) }),
    ),
});
