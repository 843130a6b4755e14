import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { createInbox } from "@nats-io/transport-node";

/** A message handed out by a pull consumer, with what its ack subject tells about it. */
export interface PulledMessage {
  data: Uint8Array;
  /** The ack subject: acks, naks and terms are sent there. */
  reply: string;
  /** Position in the stream. */
  streamSeq: number;
  /** How many times JetStream handed this message out, this time included. */
  deliveryCount: number;
}

/**
 * Asks a pull consumer for up to `max` messages and returns what is available now.
 *
 * The client library's `fetch` waits at least a second for a full batch; the dispatcher must not
 * wait when fewer are due, so this sends the pull request itself with `no_wait` (JetStream's
 * wire protocol, ADR-13): the server delivers what it has and ends with a 404/408 status.
 */
export function pullNow(
  nc: NatsConnection,
  stream: string,
  consumer: string,
  max: number,
  timeoutMs = 5_000,
): Promise<PulledMessage[]> {
  const inbox = createInbox();
  const out: PulledMessage[] = [];
  return new Promise<PulledMessage[]>((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      sub.unsubscribe();
      if (err && out.length === 0) reject(err);
      else resolve(out); // leased messages are never thrown away: they would wait out their lease
    };
    const timer = setTimeout(
      () => done(new Error(`[cluster] pull from ${stream}/${consumer} got no answer in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return done(err);
        const status = msg.headers?.code ?? 0;
        if (status !== 0 || !msg.reply) {
          // 404 no messages, 408 request expired, 409 e.g. consumer deleted: the batch ends here.
          if (status === 409)
            return done(new Error(`[cluster] pull from ${stream}/${consumer}: ${msg.headers?.description}`));
          return done();
        }
        out.push(pulled(msg));
        if (out.length >= max) done();
      },
    });
    nc.publish(
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      JSON.stringify({ batch: max, no_wait: true }),
      {
        reply: inbox,
      },
    );
  });
}

function pulled(msg: Msg): PulledMessage {
  const reply = msg.reply!;
  return { data: msg.data, reply, deliveryCount: deliveryCountOf(reply), streamSeq: streamSeqOf(reply) };
}

// $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending> (v1), or with
// <domain>.<account hash> after ACK and a random token at the end (v2).
function ackToken(reply: string, k: number): number {
  const t = reply.split(".");
  return Number(t[(t.length === 9 ? 4 : 6) + k]);
}

/** How many times JetStream handed out the message of this ack subject, this time included. */
export function deliveryCountOf(reply: string): number {
  return ackToken(reply, 0);
}

function streamSeqOf(reply: string): number {
  return ackToken(reply, 1);
}

/**
 * Sends an ack-type reply (`+ACK`, `-NAK {...}`, `+TERM`) and waits for the server to confirm it,
 * so that what the caller does next (count, lease) sees its effect.
 */
export async function acknowledge(nc: NatsConnection, reply: string, payload: string): Promise<void> {
  await nc.request(reply, payload, { timeout: 5_000 });
}

/** `-NAK` payload that asks for redelivery after `delayMs` (0: at once). */
export function nakPayload(delayMs: number): string {
  return delayMs > 0 ? `-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1e6 })}` : "-NAK";
}
