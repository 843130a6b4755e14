import type { FunctionConfig, ResolvedFunctionConfig } from "../function.js";

/**
 * What the SDK knows of one trigger kind: its constructor (`on.<kind>`), and the rules it adds to
 * a function's configuration. One module per kind in this folder implements it, and the registry
 * (`index.ts`) lists them; `defineFunction` and the server's check of a configuration read from a
 * sandbox know the kinds only through that registry.
 */
export interface TriggerKind<T extends { kind: string } = { kind: string }> {
  readonly kind: T["kind"];
  /** The constructor users call as `on.<kind>(…)`: checks its arguments, returns JSON. */
  readonly on: (...args: never[]) => T;
  /**
   * Checks a trigger that claims to be of this kind when the configuration is resolved: one made
   * by hand (a Lambda-style `config` export) did not pass through {@link on}. Throws
   * `InvalidFunctionConfigError`.
   */
  check?(trigger: T): void;
  /**
   * The trigger made again by {@link on} from its resolved form, which a sandbox handed over (the
   * server trusts no field of it): throws where `on` would, and returns what `on` returns.
   */
  rebuild(trigger: Record<string, unknown>): T;
  /** Rules this kind sets for the whole function (HTTP functions: only `on.http` triggers). */
  checkFunction?(config: FunctionConfig, triggers: T[]): void;
  /**
   * Options of the resolved configuration this kind's triggers fill in (a queue's `batchSize`
   * makes `batch`). Runs before the function's own `batch` is resolved.
   */
  resolve?(config: FunctionConfig, triggers: T[], out: ResolvedFunctionConfig): void;
  /**
   * The options {@link resolve} made from the triggers, which a user did not write: the check of
   * a resolved configuration leaves them out when it rebuilds the options.
   */
  derived?(triggers: T[]): (keyof FunctionConfig)[];
  /** Attempts one sandbox runs at once unless `concurrency.perSandbox` says (absent: 1). */
  readonly perSandbox?: number;
}
