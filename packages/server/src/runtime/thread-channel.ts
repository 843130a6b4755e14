import { Worker } from "node:worker_threads";
import type { SandboxChannel, SandboxExit } from "./channel.js";
import { ExitSlot } from "./channel.js";
import type { FromSandbox, Many, ToSandbox } from "./protocol.js";
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
  // A message this thread cannot read (nested deeper than its stack allows): the sandbox is broken.
  worker.on("messageerror", (err) =>
    exit({ oom: false, detail: `it sent a message that could not be read (${err.message})` }),
  );
  return {
    kind: "thread",
    send: batched<ToSandbox>((msg) => worker.postMessage(msg), {
      failed: (_msg, err) =>
        exit({ oom: false, detail: `a message could not be sent to it (${err.message})` }),
    }),
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
