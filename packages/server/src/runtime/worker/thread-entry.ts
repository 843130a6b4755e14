/** Entry point of a worker-thread sandbox: wires the host to the parent port. */
import { parentPort } from "node:worker_threads";
import type { FromSandbox, Many, ToSandbox } from "../protocol.js";
import { undeliverable } from "../returned.js";
import { batched } from "./batch.js";
import { createHost } from "./host.js";

// Bundles carry inline source maps: stack traces then point at the user's TypeScript.
process.setSourceMapsEnabled(true);

const port = parentPort;
if (!port) throw new Error("thread-entry must run in a worker thread");
// A result waits for the end of the turn only while other attempts still run (their results
// join it); the last one goes at once, so a function alone in its sandbox answers as before.
const send = batched<FromSandbox>((msg) => port.postMessage(msg), {
  now: (msg) => msg.t !== "result" || handle.running() === 0,
  // A message that does not clone (a value nested thousands deep): what waits for it fails now.
  failed: (msg, err) => {
    const instead = undeliverable(msg, err);
    if (!instead) throw err;
    port.postMessage(instead);
  },
});
const handle = createHost(send);
port.on("message", (msg: ToSandbox | Many<ToSandbox>) => {
  if (msg.t === "many") for (const m of msg.msgs) handle(m);
  else handle(msg);
});
port.postMessage({ t: "ready" });
