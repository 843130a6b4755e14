/**
 * The backend contract: one test module per primitive and per optional capability, so that
 * `embedded` and `cluster` keep the same promises (the delivery contract of docs/architecture.md
 * depends on them). `describeBackendContract` runs every primitive's module, and each capability's
 * module on every backend that declares the capability.
 *
 * @example
 * // packages/server/test/embedded-contract.test.ts
 * describeBackendContract("embedded", { create: () => openEmbeddedBackend({ path: tmpFile() }), ... });
 */
import { afterEach, describe, expect, it as vitestIt } from "vitest";
import type { Backend, BackendCapabilities } from "../types.js";
import { describeBroadcastContract } from "./capabilities/broadcast.js";
import { describeBundlesContract } from "./capabilities/bundles.js";
import { describeJoinsWritesContract } from "./capabilities/joins-writes.js";
import { describeWakeupsContract } from "./capabilities/wakeups.js";
import type { ContractContext, ContractTest } from "./context.js";
import { sleep } from "./fixtures.js";
import { describeDeadLetterContract } from "./dead-letters.js";
import { describeFlowContract } from "./flow.js";
import { describeJournalContract } from "./journal.js";
import { describeKeyValueContract } from "./kv.js";
import { describeLeaseContract } from "./lease.js";
import { describeLogContract } from "./log.js";
import { describeRecordsContract } from "./records.js";
import { describeTracesContract } from "./traces.js";

export type { ContractContext, ContractTest } from "./context.js";
export { describeModelContract } from "./model.js";
export type { ModelHarness } from "./model.js";

/** A capability's name, as a key of `Backend.capabilities`. */
export type CapabilityName = keyof BackendCapabilities;

/** How the suite gets backends. */
export interface ContractHarness {
  /** A backend on fresh, empty storage. */
  create(): Promise<Backend>;
  /**
   * Simulates a crash and a restart: drops `backend` without settling what it leased and opens a
   * new one on the same storage.
   */
  restart(backend: Backend): Promise<Backend>;
  /**
   * Opens a second process on the storage of `backend`, which stays open (cluster: another node).
   * Needed by the capabilities between processes (`wakeups`, `broadcast`); a backend of one process
   * (embedded) has none to declare.
   */
  peer?(backend: Backend): Promise<Backend>;
  /**
   * The capabilities this backend declares: their contract modules run, and a test checks that
   * the backend declares exactly these (a capability added to a backend cannot go untested).
   */
  capabilities: readonly CapabilityName[];
  /**
   * Tests this backend does not pass yet, by title, each with the reason (Hono's router suite does
   * the same): they are reported as skipped with the reason in their name, never left out quietly.
   */
  skip?: Record<string, string>;
  /**
   * The clock the backends were opened on, when the test drives it (embedded: a ManualClock). A
   * backend on real time (cluster) leaves it out: the cases then sleep, with windows wide enough
   * for a loaded machine.
   */
  clock?: { now(): number; advance(ms: number): Promise<void> };
}

/** Each optional capability's contract module. */
const CAPABILITIES: Record<CapabilityName, { module: (c: ContractContext) => void; needsPeer: boolean }> = {
  wakeups: { module: describeWakeupsContract, needsPeer: true },
  joinsWrites: { module: describeJoinsWritesContract, needsPeer: false },
  bundles: { module: describeBundlesContract, needsPeer: false },
  broadcast: { module: describeBroadcastContract, needsPeer: true },
};

/** Registers the contract tests for one backend. */
export function describeBackendContract(name: string, harness: ContractHarness): void {
  const skip = harness.skip ?? {};
  const it: ContractTest = (title, fn) => {
    const reason = skip[title];
    if (reason === undefined) vitestIt(title, fn);
    else vitestIt.skip(`${title} [not on ${name}: ${reason}]`, fn);
  };
  describe(`backend contract: ${name}`, () => {
    const open: Backend[] = [];
    const track = (b: Backend) => (open.push(b), b);
    const c: ContractContext = {
      it,
      create: async () => track(await harness.create()),
      restart: async (b) => track(await harness.restart(b)),
      peer: async (b) => {
        if (!harness.peer) throw new Error(`[contract] the ${name} harness has no peer()`);
        return track(await harness.peer(b));
      },
      now: () => (harness.clock ? harness.clock.now() : Date.now()),
      elapse: (ms) => (harness.clock ? harness.clock.advance(ms) : sleep(ms)),
    };

    afterEach(async () => {
      // Peers and restarts last in, first out: a peer closes before the backend it shares storage with.
      for (const b of open.splice(0).reverse()) await b.close().catch(() => undefined);
    });

    describeLogContract(c);
    describeLeaseContract(c);
    describeFlowContract(c);
    describeDeadLetterContract(c);
    describeRecordsContract(c);
    describeKeyValueContract(c);
    describeTracesContract(c);
    describeJournalContract(c);

    describe("capabilities", () => {
      it("declares exactly the capabilities its harness names", async () => {
        const b = await c.create();
        const declared = Object.entries(b.capabilities)
          .filter(([, v]) => v !== undefined && v !== false)
          .map(([k]) => k);
        expect(declared.sort()).toEqual([...harness.capabilities].sort());
      });
      for (const [cap, { module, needsPeer }] of Object.entries(CAPABILITIES)) {
        if (!harness.capabilities.includes(cap as CapabilityName)) continue;
        if (needsPeer && !harness.peer) {
          throw new Error(`[contract] ${name} declares ${cap}, whose contract needs the harness's peer()`);
        }
        module(c);
      }
    });
  });
}
