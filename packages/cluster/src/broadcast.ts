import type { NatsConnection } from "@nats-io/transport-node";
import type { Broadcast } from "@eddy/server";
import type { ResolvedClusterOptions } from "./options.js";

/**
 * Broadcasts (cache invalidations, revoked keys) on core NATS, one subject per topic: best effort,
 * like the interface promises. A message names the node that sent it, so that its own listeners
 * skip it (NATS hands a subscriber its own connection's messages too).
 */
export class NatsBroadcast implements Broadcast {
  readonly #nc: NatsConnection;
  readonly #o: ResolvedClusterOptions;

  constructor(nc: NatsConnection, o: ResolvedClusterOptions) {
    this.#nc = nc;
    this.#o = o;
  }

  send(topic: string, message: unknown): void {
    this.#nc.publish(this.#subject(topic), JSON.stringify({ n: this.#o.instance, m: message }));
  }

  listen(topic: string, listener: (message: unknown) => void): () => void {
    const sub = this.#nc.subscribe(this.#subject(topic), {
      callback: (_err, msg) => {
        try {
          const { n, m } = msg.json<{ n: string; m: unknown }>();
          if (n !== this.#o.instance) listener(m);
        } catch {
          // not ours; ignore
        }
      },
    });
    return () => sub.unsubscribe();
  }

  #subject(topic: string): string {
    return `${this.#o.wakeSubject}.broadcast.${topic}`;
  }
}
