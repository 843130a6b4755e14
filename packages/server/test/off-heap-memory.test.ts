// memoryMb bounds what a function can allocate off V8's heap too (ArrayBuffers, Buffers): a function
// that tries to take a gigabyte that way fails its attempt with FunctionOutOfMemoryError, the
// server's RSS (a thread sandbox's memory is the server's) stays bounded, and other functions run.
// In its own file: the RSS peak of this test process is the measured signal.
import { describe, expect, it } from "vitest";
import { fnSource, invocations, post, tempApp, useEddy, waitFor } from "./helpers.js";

const MiB = 2 ** 20;
const limits = `memoryMb: 64, timeout: "60s", retries: { maxAttempts: 1 }`;

describe.each(["thread", "process"] as const)("%s sandboxes", (isolation) => {
  const iso = `isolation: "${isolation}"`;
  const server = useEddy(
    tempApp({
      // 1 GiB of Buffers in one synchronous loop, each filled (so it is resident, not just mapped).
      "functions/buffers.ts": fnSource(
        "buffers",
        { type: ["buffers"] },
        `const keep = []; for (let i = 0; i < 8; i++) keep.push(Buffer.alloc(128 * 2 ** 20, 1));
         ctx.log.info("kept", { n: keep.length });`,
        `${iso}, ${limits}`,
      ),
      // 1 GiB of typed arrays, yielding between allocations.
      "functions/arrays.ts": fnSource(
        "arrays",
        { type: ["arrays"] },
        `const keep = [];
         for (let i = 0; i < 32; i++) {
           keep.push(new Uint8Array(32 * 2 ** 20).fill(1));
           await new Promise((r) => setTimeout(r, 1));
         }
         ctx.log.info("kept", { n: keep.length });`,
        `${iso}, ${limits}`,
      ),
      // Allocates and drops far more than its limit: garbage is not a leak.
      "functions/churns.ts": fnSource(
        "churns",
        { type: ["churns"] },
        `let sum = 0; for (let i = 0; i < 64; i++) sum += Buffer.alloc(16 * 2 ** 20, 1)[i];
         ctx.log.info("sum", { sum });`,
        `${iso}, ${limits}`,
      ),
      "functions/ok.ts": fnSource("ok", { type: ["ok"] }, "", iso),
    }),
  );

  async function outcome(type: string) {
    const url = server().url;
    const id = `${type}-${isolation}`;
    const res = await post(`${url}/v1/events`, { specversion: "1.0", id, source: "/mem", type, data: {} });
    expect(res.status).toBe(202);
    return waitFor(
      async () => (await invocations(url, type)).find((i) => i.eventId === id && i.outcome !== "retry"),
      `${type} to finish`,
      30_000,
    );
  }

  it("fails an attempt that allocates far more than memoryMb off the heap; the server's RSS stays bounded", async () => {
    const before = process.memoryUsage().rss;
    for (const type of ["buffers", "arrays"]) {
      const inv = await outcome(type);
      expect(inv.outcome).toBe("dead");
      expect(inv.error).toMatchObject({
        name: "FunctionOutOfMemoryError",
        code: "EDDY_FUNCTION_OUT_OF_MEMORY",
      });
      expect(inv.error!.message).toContain("memory limit of 64 MB");
    }
    // The highest RSS this process ever had (the server runs in it): each function tried for 1 GiB.
    const peak = process.resourceUsage().maxRSS * 1024;
    expect(peak - before).toBeLessThan(512 * MiB);
    // Other functions keep being served.
    expect((await outcome("ok")).outcome).toBe("ack");
  });

  it("does not count garbage: a function that allocates and drops buffers succeeds", async () => {
    expect((await outcome("churns")).outcome).toBe("ack");
  });
});
