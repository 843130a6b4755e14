/**
 * What a lease token carries, so that any node can settle or extend a lease (a queue message
 * received through one node and deleted through another): the JetStream ack subject, the time
 * after which the lease no longer counts as held, and where the delivery is.
 */
export interface TokenData {
  /** JetStream ack subject of the leased message. */
  reply: string;
  /** Settling is refused from this time on (epoch ms). */
  validUntil: number;
  /** Sequence of the message in the work stream. */
  streamSeq: number;
  fn: string;
  /** The node that leased it: that node alone knows whether it still holds the lease. */
  node: string;
}

/** Encodes a lease token (URL-safe, no "~", which queue receipt handles use as a separator). */
export function encodeToken(t: TokenData): string {
  return Buffer.from(JSON.stringify([t.reply, t.validUntil, t.streamSeq, t.fn, t.node])).toString(
    "base64url",
  );
}

/** Decodes a lease token; undefined if it is not one. */
export function decodeToken(token: string): TokenData | undefined {
  try {
    const [reply, validUntil, streamSeq, fn, node] = JSON.parse(
      Buffer.from(token, "base64url").toString(),
    ) as unknown[];
    if (typeof reply !== "string" || !reply.startsWith("$JS.ACK.")) return undefined;
    if (typeof validUntil !== "number" || typeof streamSeq !== "number") return undefined;
    if (typeof fn !== "string" || typeof node !== "string") return undefined;
    return { reply, validUntil, streamSeq, fn, node };
  } catch {
    return undefined;
  }
}
