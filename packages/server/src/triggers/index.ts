/**
 * The server's registry of trigger kinds: adding a kind is a folder here implementing
 * {@link TriggerKind} (`kind.ts`) and a line in {@link triggerKinds}, beside its module in the SDK
 * (`packages/eddy/src/triggers/`). The composition root (`start.ts`) hands the list to the engine,
 * which loops over it. docs/architecture.md ("Adding a trigger kind") has the steps.
 */
import { eventKind } from "./event/index.js";
import type { HttpKindOptions } from "./http/index.js";
import { HttpKind } from "./http/index.js";
import type { TriggerKind } from "./kind.js";
import { queueKind } from "./queue/index.js";
import { scheduleKind } from "./schedule/index.js";

export type { TriggerKind } from "./kind.js";
export { HttpKind } from "./http/index.js";

/** Options of the kinds that take any. */
export interface TriggerKindOptions {
  http?: HttpKindOptions;
}

/** Every trigger kind the server runs, made for one engine. */
export function triggerKinds(options: TriggerKindOptions = {}): TriggerKind[] {
  return [eventKind(), queueKind(), scheduleKind(), new HttpKind(options.http)] as TriggerKind[];
}
