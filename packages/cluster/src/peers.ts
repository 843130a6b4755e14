import type { NatsConnection, Subscription } from "@nats-io/transport-node";

/** A lease of the work stream, as the node holding it reports it. */
export interface StreamLease {
  id: string;
  fn: string;
  streamSeq: number;
  attempt: number;
  eventId: string;
  eventType: string;
  createdAt: number;
  leaseUntil: number;
}

/** What one node knows of the work stream that JetStream does not tell: its leases and retries. */
export interface NodeReport {
  node: string;
  /** The node's instance (options.instance): its heartbeat row. */
  instance?: string;
  leases: StreamLease[];
  /** Retries this node scheduled (negative acks with a delay): when each is due. */
  retries: { fn: string; streamSeq: number; dueAt: number }[];
}

// Replies come within milliseconds on a healthy network; a node slower than this is left out.
const MAX_WAIT_MS = 2_000;
const STALL_MS = 150;

/**
 * Asks every node what it holds. JetStream knows which messages are unacknowledged but not who holds
 * them nor until when, so the admin view of the work stream is gathered from the nodes: each node
 * answers requests on `<prefix>.inspect` with its report, and the asker collects the answers until
 * none has arrived for a moment. A node that died answers nothing; its leases show up as overdue
 * once they are old enough (see stream-inspect.ts).
 */
export class Peers {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #sub: Subscription;

  /** @param report this node's report, for leases of `fn` (or every function). */
  constructor(nc: NatsConnection, subject: string, report: (fn: string | undefined) => NodeReport) {
    this.#nc = nc;
    this.#subject = subject;
    this.#sub = nc.subscribe(subject, {
      callback: (_err, msg) => {
        try {
          const { fn } = msg.json<{ fn?: string }>();
          msg.respond(JSON.stringify(report(fn)));
        } catch {
          // not a request of ours
        }
      },
    });
  }

  /** The reports of every node that answered, this one's included (it subscribes too). */
  async gather(fn: string | undefined): Promise<NodeReport[]> {
    const replies = await this.#nc.requestMany(
      this.#subject,
      JSON.stringify(fn === undefined ? {} : { fn }),
      {
        strategy: "stall",
        stall: STALL_MS,
        maxWait: MAX_WAIT_MS,
      },
    );
    const out: NodeReport[] = [];
    for await (const m of replies) {
      try {
        out.push(m.json<NodeReport>());
      } catch {
        // a garbled reply: leave that node out
      }
    }
    return out;
  }

  /** Stops answering. */
  close(): void {
    this.#sub.unsubscribe();
  }
}
