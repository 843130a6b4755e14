import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEddy } from "@eddy/server";
import { fnSource, getJson, startTestEddy, tempApp, waitFor, waitForSucceeded } from "./helpers.js";

// The embedded store on a real, small filesystem (an 8 MiB tmpfs) that the test fills up: the
// refusals must be clean (503 problem+json with Retry-After), the server must stay up, the file
// must not be corrupted, and once space returns every event acknowledged before is delivered.
// Mounting needs root (CI runs as root); without it this file fails rather than skip silently.
const app = tempApp({
  // A short timeout: a lease whose settle the full disk refused comes back soon (timeout + 10 s).
  "functions/sink.ts": fnSource("sink", { type: ["fill"] }, "", `timeout: "1s"`),
});
const mnt = mkdtempSync(join(tmpdir(), "eddy-tmpfs-"));
const ballast = join(mnt, "ballast");
let mounted = false;
let eddy: RunningEddy | undefined;

beforeAll(() => {
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt]);
  mounted = true;
});
afterAll(async () => {
  await eddy?.close(0);
  if (mounted) execFileSync("umount", ["-l", mnt]);
  rmSync(mnt, { recursive: true, force: true });
  app.cleanup();
});

const free = () => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

async function send(id: string, pad: string): Promise<Response> {
  return fetch(`${eddy!.url}/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/cloudevents+json" },
    body: JSON.stringify({ specversion: "1.0", id, source: "/disk", type: "fill", data: { pad } }),
  });
}

describe("ingest on a full disk (embedded store on a tmpfs)", () => {
  it("refuses with 503 and Retry-After, stays up, and delivers every acknowledged event once space is back", async () => {
    // The free-disk floor off: the store itself runs out of space (SQLITE_FULL), the hard case.
    eddy = await startTestEddy(app.dir, {
      dataDir: join(mnt, "data"),
      backpressure: { minFreeDiskBytes: 0 },
    });
    // Leave about 1.5 MiB for the database to grow into.
    writeFileSync(ballast, Buffer.alloc(Math.max(0, free() - 1.5 * 1024 * 1024)));
    const pad = "x".repeat(60_000);
    const acked: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const res = await send(`fill-${i}`, pad);
      if (res.status === 202) acked.push(`fill-${i}`);
      else refused = res;
    }
    expect(refused, "the disk never filled up").toBeDefined();
    expect(acked.length).toBeGreaterThan(0);
    expect(refused!.status).toBe(503);
    expect(refused!.headers.get("content-type")).toContain("application/problem+json");
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(((await refused!.json()) as { code: string }).code).toBe("EDDY_STORE_FULL");

    // Still serving. (`/readyz` tries a small write, which may still fit: readiness on a disk
    // that fills up is the free-disk floor's job, see the next test.)
    expect((await fetch(`${eddy.url}/healthz`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${eddy.url}/readyz`)).status);

    // Space comes back: ingest takes events again, by itself.
    rmSync(ballast);
    await waitFor(
      async () => (await send("after", "")).status === 202,
      "ingest to take events again",
      30_000,
    );
    acked.push("after");
    await waitForSucceeded(eddy!.url, "sink", acked, 60_000);
    expect((await getJson<{ status: string }>(`${eddy.url}/readyz`)).status).toBe("ready");
    await eddy.close(0);
    eddy = undefined;
    const db = new Database(join(mnt, "data", "eddy.db"), { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("keeps the free-disk floor: refuses before the disk is full, without writing", async () => {
    // A floor above what any disk has free: every event is refused up front.
    eddy = await startTestEddy(app.dir, {
      dataDir: join(app.dir, "floor"),
      backpressure: { minFreeDiskBytes: Number.MAX_SAFE_INTEGER },
    });
    const res = await send("floor-1", "");
    expect(res.status).toBe(503);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = (await res.json()) as { code: string; detail: string };
    expect(body.code).toBe("EDDY_STORE_FULL");
    expect(body.detail).toMatch(/free/);
    const ready = await fetch(`${eddy.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { checks: { disk?: string } }).checks.disk).toMatch(/MiB free/);
    expect(await eddy.engine.backend.log.read(0, 10)).toEqual([]);
  });
});
