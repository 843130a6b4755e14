// Starts Eddy in this process on a temporary app made of the given function sources.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, startEddy } from "@eddy/server";

/** Runs `fn(eddy)` against a fresh app with `files` (name → source) under functions/. */
export async function withApp(files, fn) {
  const dir = mkdtempSync(join(tmpdir(), "eddy-bench-"));
  mkdirSync(join(dir, "functions"));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, "functions", name), source);
  const eddy = await startEddy({ dir, port: 0, log: createLogger({ level: "silent" }) });
  try {
    return await fn(eddy);
  } finally {
    await eddy.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Source of a no-op function; `trigger` is the on.* call. */
export function noop(name, trigger, options = "concurrency: { max: 4 }") {
  return `import { defineFunction, on } from "eddy";
export default defineFunction({ name: "${name}", triggers: [${trigger}], ${options} }, async () => {});
`;
}

/** Waits until none of the consumers has ready or leased deliveries. */
export async function drained(eddy, consumers) {
  for (;;) {
    let left = 0;
    for (const c of consumers) {
      const n = await eddy.engine.backend.queue.counts(c);
      left += n.ready + n.leased;
    }
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** POSTs JSON and fails loudly on anything but the expected status. */
export async function postJson(url, body, contentType = "application/json", expected = 202) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": contentType },
    body: JSON.stringify(body),
  });
  if (res.status !== expected) throw new Error(`POST ${url}: HTTP ${res.status} ${await res.text()}`);
  return res;
}
