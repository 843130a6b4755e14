import { IncomingMessage } from "node:http";
import type { ServerResponse } from "node:http";
import { Gauge } from "prom-client";
import type { Registry } from "prom-client";

/**
 * The bytes of request bodies the server holds at once, API and routes alike: counted as they
 * arrive on each request's stream (before Fastify's parsers or the gateway read them), and given
 * back when the request's response is done or its socket closes (completed, failed, timed out,
 * dropped by the client). A request whose next chunk would take the total over `limit` is refused.
 *
 * @example
 * const budget = new BodyBudget(64 * 1024 * 1024);
 * budget.used; // bytes held now
 */
export class BodyBudget {
  #used = 0;

  constructor(readonly limit: number) {}

  /** Bytes of request bodies held now. */
  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if the total stays within the limit. */
  take(bytes: number): boolean {
    if (this.#used + bytes > this.limit) return false;
    this.#used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#used -= bytes;
  }
}

/** `eddy_http_buffered_body_bytes` in `registry`: what `budget` holds, read when scraped. */
export function budgetGauge(registry: Registry, budget: BodyBudget): void {
  new Gauge({
    name: "eddy_http_buffered_body_bytes",
    help: "Bytes of request bodies the HTTP server holds now (API and routes), at most connections.maxBufferedBodyBytes.",
    registers: [registry],
    collect() {
      this.set(budget.used);
    },
  });
}

/** What the server does with a request whose body would go over the budget. */
export type OverBudget = () => void;

/**
 * The server's request class (`createServer({ IncomingMessage })`): Node hands it each chunk of
 * the body through `push`, which charges it to the budget first; a chunk over the budget is
 * dropped and the request refused through `onOver`.
 */
export class BudgetedRequest extends IncomingMessage {
  #budget: BodyBudget | undefined;
  #onOver: OverBudget | undefined;
  #held = 0;
  #refused = false;

  /** Charges this request's body to `budget` until `res` is done or the socket closes. */
  charge(budget: BodyBudget, res: ServerResponse, onOver: OverBudget): void {
    this.#budget = budget;
    this.#onOver = onOver;
    const socket = this.socket;
    const release = () => {
      budget.give(this.#held);
      this.#held = 0;
      this.#budget = undefined;
      res.off("close", release);
      socket.off("close", release);
    };
    res.once("close", release);
    socket.once("close", release);
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    // A refused request never ends: its reader sees it aborted once the socket closes, and the
    // rest of its body is read and dropped until then (the parser keeps reading).
    if (this.#refused) {
      if (chunk === null) this.socket.destroy();
      return true;
    }
    if (chunk !== null && this.#budget) {
      const bytes = (chunk as Buffer).length;
      if (!this.#budget.take(bytes)) {
        this.#refused = true;
        this.#onOver?.();
        return true;
      }
      this.#held += bytes;
    }
    return super.push(chunk, encoding);
  }
}
