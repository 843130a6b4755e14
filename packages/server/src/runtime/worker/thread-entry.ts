/** Entry point of a worker-thread sandbox: wires the host to the parent port. */
import { parentPort } from "node:worker_threads";
import type { ToSandbox } from "../protocol.js";
import { createHost } from "./host.js";

// Bundles carry inline source maps: stack traces then point at the user's TypeScript.
process.setSourceMapsEnabled(true);

const port = parentPort;
if (!port) throw new Error("thread-entry must run in a worker thread");
const handle = createHost((msg) => port.postMessage(msg));
port.on("message", (msg: ToSandbox) => handle(msg));
port.postMessage({ t: "ready" });
