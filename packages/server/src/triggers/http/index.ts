import type { HttpTrigger } from "eddy";
import type { Clock } from "../../clock/clock.js";
import { httpDispatchHooks, withHttpRequest } from "../../gateway/async-requests.js";
import { CallbackTargets } from "../../gateway/callback-target.js";
import { RouteTable } from "../../gateway/routes.js";
import type { Logger } from "../../observability/logger.js";
import type { TriggerKind } from "../kind.js";

/** Options of the HTTP kind. */
export interface HttpKindOptions {
  /** Where the gateway mounts function routes: "" (default) or a prefix such as "/api". */
  routePrefix?: string;
  /** Where async requests' callbacks may go (default: public addresses only). */
  callbackTargets?: CallbackTargets;
}

/**
 * `on.http`: routes of the API gateway (`gateway/`). Each deploy compiles the running set's route
 * table, refusing a function whose route conflicts with one already running, and swaps it in with
 * the rest of the deploy; the gateway reads {@link routes}. An async request is a delivery whose
 * event carries the request: its sandbox gets the request, and its status is written with the settle.
 */
export class HttpKind implements TriggerKind<HttpTrigger> {
  readonly kind = "http";
  readonly #prefix: string;
  readonly #callbacks: CallbackTargets;
  #routes: RouteTable;
  #log: Logger | undefined;
  #clock: Clock | undefined;

  constructor(options: HttpKindOptions = {}) {
    this.#prefix = options.routePrefix ?? "";
    this.#callbacks = options.callbackTargets ?? new CallbackTargets();
    this.#routes = RouteTable.empty(this.#prefix);
  }

  /** The routes of the running functions. */
  get routes(): RouteTable {
    return this.#routes;
  }

  start(services: { log: Logger; clock: Clock }): void {
    this.#log = services.log;
    this.#clock = services.clock;
  }

  /** Functions already running are placed first, so that a newcomer cannot take their routes. */
  compile(functions: Parameters<NonNullable<TriggerKind["compile"]>>[0], running: ReadonlySet<string>) {
    const ordered = [...functions].sort(
      (a, b) => Number(!running.has(a.name)) - Number(!running.has(b.name)) || a.name.localeCompare(b.name),
    );
    const { table, refused } = RouteTable.build(ordered, this.#prefix);
    return { refused, commit: () => void (this.#routes = table) };
  }

  dispatch() {
    return { invoke: withHttpRequest, hooks: httpDispatchHooks(this.#log!, this.#callbacks, this.#clock!) };
  }
}

/** The HTTP kind an engine runs (the gateway serves its routes). */
export function httpKindOf(engine: { kind(name: string): TriggerKind | undefined }): HttpKind {
  const kind = engine.kind("http");
  if (!(kind instanceof HttpKind)) throw new Error("this engine runs no HttpKind: give it triggerKinds()");
  return kind;
}
