// The manual clock the timing tests drive the server with: timers fire in time order, each at its
// own time, only when the test advances (or, when due now, at once), and a test can wait until the
// server has armed the timer it is about to advance to.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger, openEmbeddedBackend, realClock, startEddy } from "@eddy/server";
import { ManualClock } from "@eddy/server/testing";
import { tempApp } from "./helpers.js";

describe("ManualClock", () => {
  it("fires due timers in time order, each at its own time, and those they arm on the way", async () => {
    const clock = new ManualClock(1_000);
    const fired: [string, number][] = [];
    clock.setTimeout(() => fired.push(["b", clock.now()]), 200);
    clock.setTimeout(() => {
      fired.push(["a", clock.now()]);
      clock.setTimeout(() => fired.push(["a2", clock.now()]), 50);
    }, 100);
    const every = clock.setInterval(() => fired.push(["i", clock.now()]), 120);
    clock.setTimeout(() => fired.push(["late", clock.now()]), 1_000);
    await clock.advance(250);
    expect(fired).toEqual([
      ["a", 1_100],
      ["i", 1_120],
      ["a2", 1_150],
      ["b", 1_200],
      ["i", 1_240],
    ]);
    expect(clock.now()).toBe(1_250);
    clock.clearInterval(every);
    expect(clock.nextTimerAt()).toBe(2_000);
  });

  it("does not move by itself, but runs what is due now at once", async () => {
    const clock = new ManualClock(5_000);
    let ran = false;
    clock.setTimeout(() => (ran = true), 0);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(ran).toBe(true);
    expect(clock.now()).toBe(5_000);
  });

  it("tells when a timer due by a time is armed", async () => {
    const clock = new ManualClock(0);
    let armed = false;
    const waiting = clock.whenArmed(500, 2).then(() => (armed = true));
    clock.setTimeout(() => undefined, 400);
    clock.setTimeout(() => undefined, 900);
    await Promise.resolve();
    expect(armed).toBe(false);
    const t = clock.setTimeout(() => undefined, 500);
    await waiting;
    expect(armed).toBe(true);
    clock.clearTimeout(t);
    await clock.whenArmed(400);
  });

  it("refuses to go back", async () => {
    await expect(new ManualClock().advance(-1)).rejects.toThrow(/ms must be >= 0/);
  });

  it("the real clock is Date.now() with timers that do not hold the process", () => {
    const t = realClock.setTimeout(() => undefined, 60_000) as NodeJS.Timeout;
    expect(t.hasRef()).toBe(false);
    realClock.clearTimeout(t);
    const before = Date.now();
    const now = realClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("startEddy({ clock })", () => {
  it("refuses a backend that keeps another clock: its lease ends would be read on the wrong one", async () => {
    const app = tempApp({});
    const backend = openEmbeddedBackend({ path: join(app.dir, "eddy.db") });
    try {
      const log = createLogger({ level: "silent" });
      await expect(
        startEddy({ dir: app.dir, port: 0, log, backend, clock: new ManualClock() }),
      ).rejects.toThrow(
        /the embedded backend keeps another clock than the engine's: open it with the same clock/,
      );
    } finally {
      await backend.close();
      app.cleanup();
    }
  });
});
