import type { CloudEvent, Trigger } from "eddy";
import type { Backend } from "../backends/types.js";
import type { Clock } from "../clock/clock.js";
import type { SettleHooks } from "../dispatch/attempt.js";
import type { LoadedFunction } from "../functions/loader.js";
import type { Logger } from "../observability/logger.js";
import type { QueueService } from "../queues/queue-service.js";
import type { ExtensionNames } from "../router/pattern-keys.js";
import type { RoutePattern } from "../router/router.js";
import type { InvokeRequest } from "../runtime/protocol.js";

/** A trigger of a function with its place in `triggers` (messages and ids name it). */
export interface IndexedTrigger<T extends Trigger = Trigger> {
  trigger: T;
  index: number;
}

/** What the engine gives a kind when it starts: what its way in needs. */
export interface KindServices {
  backend: Backend;
  log: Logger;
  clock: Clock;
  /** The queues (a kind consuming them makes sure they exist). */
  queues: QueueService;
  /** Publishes an event on the bus: validated, routed, durable (deduplicated by source + id). */
  publish(event: CloudEvent): Promise<void>;
}

/** Where a function's deliveries live, and how they are leased. */
export interface Consumer {
  /** The consumer key of its deliveries. */
  name: string;
  /** Leased in order per group (a FIFO queue). */
  ordered?: boolean;
}

/** A function refused at deploy, and why. */
export interface Refusal {
  fn: LoadedFunction;
  message: string;
}

/**
 * What the server does for one trigger kind: one folder per kind under `triggers/` implements it,
 * and the registry (`triggers/index.ts`) lists them. The engine loops over the kinds and knows
 * none by name. Every hook is optional; a hook that takes `triggers` is called only for functions
 * with triggers of this kind, and gets only those. A hook throws to refuse the function at deploy
 * (a message naming the option), never for another function.
 */
export interface TriggerKind<T extends Trigger = Trigger> {
  /** The SDK's name of the kind (`on.<kind>`, the trigger's `kind`). */
  readonly kind: T["kind"];
  /** Once, when the engine starts: what the kind's way in needs (a scheduler, queues). */
  start?(services: KindServices): void;
  /** What the SDK could not check (a cron expression the server's library refuses). Runs at deploy and in a dry run. */
  check?(fn: LoadedFunction, triggers: IndexedTrigger<T>[]): void;
  /** Where the function's deliveries live, when the kind decides it (a queue's consumer); default the function's name. */
  consumer?(fn: LoadedFunction, triggers: IndexedTrigger<T>[]): Consumer;
  /** The events the router hands to the function, compiled into its pattern index. */
  patterns?(fn: string, triggers: IndexedTrigger<T>[]): RoutePattern[];
  /** What looks like a mistake without being one (a pattern key no event carries): deploy warnings. */
  warnings?(fn: LoadedFunction, triggers: IndexedTrigger<T>[], seen: ExtensionNames): string[];
  /** Before a new version is deployed: make what it consumes exist (a queue). */
  prepare?(fn: LoadedFunction, triggers: IndexedTrigger<T>[]): Promise<void>;
  /**
   * A table built over the whole set about to run (HTTP routes, where a conflict refuses a
   * function), before anything is swapped: `running` are the names running now (they keep what
   * they have against newcomers). `commit` puts it in use in the deploy's swap; a dry run drops it.
   */
  compile?(functions: LoadedFunction[], running: ReadonlySet<string>): { refused: Refusal[]; commit(): void };
  /** After the swap, with the running set: the way in follows it (schedules armed). */
  deployed?(functions: LoadedFunction[]): Promise<void>;
  /** How the function's deliveries run: the request its sandbox gets, and writes joined to the settle. */
  dispatch?(fn: LoadedFunction): { invoke?: (req: InvokeRequest) => InvokeRequest; hooks?: SettleHooks };
  /** At shutdown, before dispatching stops. */
  stop?(): Promise<void>;
}

/** The triggers of `fn` of each kind in `kinds`, for the kinds it uses. */
export function triggersOf(
  kinds: readonly TriggerKind[],
  fn: { config: { triggers: readonly Trigger[] } },
): [TriggerKind, IndexedTrigger[]][] {
  const out: [TriggerKind, IndexedTrigger[]][] = [];
  for (const kind of kinds) {
    const mine: IndexedTrigger[] = [];
    fn.config.triggers.forEach((trigger, index) => {
      if (trigger.kind === kind.kind) mine.push({ trigger, index });
    });
    if (mine.length > 0) out.push([kind, mine]);
  }
  return out;
}
