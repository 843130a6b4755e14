import type { Backend } from "../types.js";

/** The test function the contract registers with (vitest's `it`, or one that skips by title). */
export type ContractTest = (name: string, fn: () => Promise<void>) => void;

/** What every contract module gets: backends to test, tracked and closed after each test. */
export interface ContractContext {
  it: ContractTest;
  /** A backend on fresh, empty storage. */
  create(): Promise<Backend>;
  /** A crash and a restart on the same storage (see ContractHarness.restart). */
  restart(backend: Backend): Promise<Backend>;
  /** A second process on the same storage (see ContractHarness.peer). */
  peer(backend: Backend): Promise<Backend>;
  /** The time the backends read (the harness's clock; real time by default). */
  now(): number;
  /**
   * Lets `ms` pass for the backends: a manual clock advances (so "not due yet" is exact however
   * loaded the machine is), real time sleeps.
   */
  elapse(ms: number): Promise<void>;
}
