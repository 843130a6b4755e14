import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { openEmbeddedBackend } from "@eddy/server";
import { describeBackendContract } from "@eddy/server/contract";
import { ManualClock } from "@eddy/server/testing";

const dir = mkdtempSync(join(tmpdir(), "eddy-contract-"));
const paths = new WeakMap<object, string>();
let n = 0;
// The cases' waits (lease ends, due times, TTLs, dedup windows) move this clock instead of sleeping.
const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeBackendContract("embedded", {
  // One process per file (exclusive lock): nothing to tell other processes, so no peer().
  capabilities: ["joinsWrites"],
  clock,
  create() {
    const path = join(dir, `db-${++n}.sqlite`);
    const b = openEmbeddedBackend({ path, clock });
    paths.set(b, path);
    return Promise.resolve(b);
  },
  async restart(b) {
    const path = paths.get(b)!;
    await b.close();
    const reopened = openEmbeddedBackend({ path, clock });
    paths.set(reopened, path);
    return reopened;
  },
});
