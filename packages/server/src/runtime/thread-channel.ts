import { Worker } from "node:worker_threads";
import type { SandboxChannel, SandboxExit } from "./channel.js";
import { ExitSlot } from "./channel.js";
import type { FromSandbox, Many } from "./protocol.js";
import { batched } from "./worker/batch.js";

const ENTRY = new URL("./worker/thread-entry.js", import.meta.url);

/**
 * Starts a worker-thread sandbox: a heap limit from `memoryMb` (V8 `resourceLimits`), an empty
 * `process.env`, and its stdout/stderr drained into nothing (console output is captured per attempt
 * by the host; whatever else a function writes must not flood the server's output).
 */
export function startThread(memoryMb: number): SandboxChannel {
  const worker = new Worker(ENTRY, {
    env: {},
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 16 },
    stdout: true,
    stderr: true,
  });
  worker.stdout.resume();
  worker.stderr.resume();
  const slot = new ExitSlot();
  const exit = (e: SandboxExit) => slot.fire(e);
  worker.on("error", (err: Error & { code?: string }) =>
    exit(
      err.code === "ERR_WORKER_OUT_OF_MEMORY"
        ? { oom: true, detail: "out of memory" }
        : { oom: false, detail: `uncaught ${err.name}: ${err.message}` },
    ),
  );
  worker.on("exit", (code) => exit({ oom: false, detail: `the sandbox exited with code ${code}` }));
  return {
    kind: "thread",
    send: batched((msg) => worker.postMessage(msg)),
    onMessage: (listener) =>
      void worker.on("message", (m: FromSandbox | Many<FromSandbox>) => {
        if (m.t === "many") for (const x of m.msgs) listener(x);
        else listener(m);
      }),
    onExit: (listener) => slot.set(listener),
    kill: async () => {
      slot.silence();
      await worker.terminate();
    },
  };
}
