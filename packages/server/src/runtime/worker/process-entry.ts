/**
 * Entry point of a process sandbox: wires the host to the IPC channel. Bundled into one file with
 * the host and the SDK (see host-bundle.ts), because the process may read that file and nothing else.
 */
import type { FromSandbox, ToSandbox } from "../protocol.js";
import { undeliverable } from "../returned.js";
import { createHost } from "./host.js";

process.setSourceMapsEnabled(true);

if (!process.send) throw new Error("process-entry must run as a forked child with an IPC channel");
const post = (msg: FromSandbox) => {
  try {
    process.send!(msg);
  } catch (err) {
    // It does not serialize (a value nested thousands deep): what waits for it fails now.
    const instead = undeliverable(msg, err);
    if (!instead) throw err;
    process.send!(instead);
  }
};
const handle = createHost(post);
process.on("message", (msg: ToSandbox) => handle(msg));
// The engine closing the channel (or dying) ends the sandbox: nothing may outlive the server.
process.on("disconnect", () => process.exit(0));
post({ t: "ready" });
