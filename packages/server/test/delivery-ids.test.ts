import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { openEmbeddedBackend } from "@eddy/server";
import { entry, record, WINDOW } from "../src/backends/contract/fixtures.js";
import { migrate } from "../src/backends/embedded/schema.js";

const dir = mkdtempSync(join(tmpdir(), "eddy-ids-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("embedded delivery ids", () => {
  it("only grow, in the order deliveries are made, across acks that empty the queue and restarts", async () => {
    const path = join(dir, "grow.sqlite");
    let b = openEmbeddedBackend({ path });
    const ids: number[] = [];
    for (let i = 0; i < 6; i++) {
      await b.log.append([entry(["f"])], WINDOW);
      const [d] = await b.queue.lease("f", 1, 5_000);
      ids.push(Number(d!.id));
      await b.queue.settle(d!, { kind: "ack" }, { invocation: record(d!), ...WINDOW });
      expect(await b.queue.counts("f")).toEqual({ ready: 0, leased: 0, dead: 0 });
      if (i === 2) {
        await b.close();
        b = openEmbeddedBackend({ path });
      }
    }
    await b.close();
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });

  it("continues past every id the invocation records name when a file from before the fix is opened", async () => {
    const path = join(dir, "upgrade.sqlite");
    const old = new Database(path);
    migrate(old, 6); // the schema that numbered deliveries by rowid
    old
      .prepare(
        `INSERT INTO invocations (id, fn, version, delivery_id, event_id, event_source, event_type, attempt,
           status, outcome, started_at, duration_ms, logs) VALUES ('i1', 'f', 'v', '41', 'e', '/s', 't', 1,
           'succeeded', 'ack', 0, 1, '[]')`,
      )
      .run();
    old.close();
    const b = openEmbeddedBackend({ path });
    await b.log.append([entry(["f"])], WINDOW);
    const [d] = await b.queue.lease("f", 1, 5_000);
    await b.close();
    expect(Number(d!.id)).toBeGreaterThan(41);
  });
});
