// One Eddy and its publishing client in a process of their own, for bench/observability.js:
// `node bench/instrumentation-worker.js OPTIONS_JSON`, forked. The parent sends `{ total, offset }`
// and gets back the run's figures (`drive` in bench/e2e.js), or `{ error }`.
import { drive, withEddy } from "./e2e.js";

const options = JSON.parse(process.argv[2]);
await withEddy(async (eddy) => {
  process.send({ ready: true });
  await new Promise((resolve) => {
    process.on("message", (msg) => {
      if (msg.stop) return resolve();
      drive(eddy, msg).then(
        (result) => process.send({ result }),
        (err) => process.send({ error: String(err?.stack ?? err) }),
      );
    });
  });
}, options);
process.disconnect();
