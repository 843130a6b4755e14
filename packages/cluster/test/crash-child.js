// A cluster node that runs one cross-store write and is killed with SIGKILL at a named crash point
// (crash-points.test.ts). It opens the built backend, prepares what the write needs without the
// fault armed, arms it and runs the write; reaching the end means the point was never hit (exit 3).
// Argument: JSON { nats, postgres, prefix, scenario, point }.
import { openClusterBackend } from "@eddy/cluster";

const { nats, postgres, prefix, scenario, point } = JSON.parse(process.argv[2]);
let armed = false;
const backend = await openClusterBackend({
  nats,
  postgres,
  prefix,
  poolSize: 4,
  nodeId: `crash-${process.pid}`,
  faults(p) {
    if (!armed || p !== point) return;
    process.kill(process.pid, "SIGKILL");
    // SIGKILL is delivered at once; never run the next step meanwhile.
    for (;;);
  },
});
const LEASE_MS = 1_500;
const event = (id, type = "crash.test") => ({ specversion: "1.0", id, source: "/crash", type });
const append = (id, deliveries) =>
  backend.log.append([{ event: event(id), dedupKey: `/crash\0${id}`, deliveries }], {
    dedupWindowMs: 600_000,
  });
const emit = {
  event: event("emitted", "crash.emitted"),
  dedupKey: "/crash\0emitted",
  deliveries: [{ fn: "e" }],
};

async function leaseOne(fn) {
  const [lease] = await backend.queue.lease(fn, 1, LEASE_MS);
  if (!lease) throw new Error(`no delivery of ${fn} to lease`);
  return lease;
}

if (scenario === "append") {
  armed = true;
  await append("a1", [{ fn: "s" }, { fn: "t", groupKey: "g" }]);
} else if (scenario === "settle-stream" || scenario === "settle-table") {
  const fn = scenario === "settle-stream" ? "s" : "t";
  await append("a1", [fn === "s" ? { fn } : { fn, groupKey: "g" }]);
  const lease = await leaseOne(fn);
  armed = true;
  await backend.queue.settle(
    lease,
    { kind: "ack" },
    {
      emit: [emit],
      dedupWindowMs: 600_000,
      kv: [{ ns: "crash", key: "k", value: 1 }],
    },
  );
} else if (scenario === "promote") {
  armed = true;
  await append("a1", [{ fn: "l", dueAt: Date.now() + 50 }]);
  // The scheduled deliveries' timer promotes it; the point kills this process then.
  await new Promise(() => setInterval(() => undefined, 1_000));
} else if (scenario === "redrive") {
  await append("a1", [{ fn: "s" }]);
  const lease = await leaseOne("s");
  const error = { name: "Error", code: "EDDY_TEST", message: "dead" };
  await backend.queue.settle(lease, { kind: "dead", error }, { dedupWindowMs: 600_000 });
  armed = true;
  await backend.deadLetters.redrive("s", {});
}
await backend.close();
process.exit(3);
