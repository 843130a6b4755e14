import type { ServerResponse } from "node:http";
import type { ProblemDocument } from "../http/problem.js";

/** Response headers as a flat list (`[name, value, name, value, …]`), as `writeHead` takes them. */
export type FlatHeaders = (string | number)[];

/** Hop-by-hop and framing headers a function may not set: the gateway frames the response. */
const DROPPED = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "upgrade"]);

/** Appends a function's response headers to `out`, without the ones the gateway owns. */
export function functionHeaders(headers: [string, string][], out: FlatHeaders): FlatHeaders {
  for (const [k, v] of headers) if (!DROPPED.has(k.toLowerCase())) out.push(k, v);
  return out;
}

/** Writes a whole response; HEAD gets the headers only. */
export function send(
  res: ServerResponse,
  status: number,
  headers: FlatHeaders,
  body: Buffer | string | undefined,
  head = false,
): void {
  const length = body === undefined ? 0 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
  headers.push("content-length", length);
  res.writeHead(status, headers as string[]);
  if (head || body === undefined) res.end();
  else res.end(body);
}

/** Writes an RFC 9457 problem document. */
export function sendProblem(
  res: ServerResponse,
  doc: ProblemDocument,
  headers: FlatHeaders = [],
  head = false,
): void {
  headers.push("content-type", "application/problem+json");
  send(res, doc.status, headers, JSON.stringify(doc), head);
}
