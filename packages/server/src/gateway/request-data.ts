import type { IncomingMessage } from "node:http";
import type { HttpRequestData } from "../runtime/protocol.js";
import { isTextual } from "../runtime/worker/http.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a request body up to `limit` bytes; resolves "too-large" as soon as it is over (from
 * `Content-Length` when the client sent one, before reading anything), "aborted" if the client
 * went away before the end.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer | "too-large" | "aborted"> {
  const length = req.headers["content-length"];
  if (length !== undefined && Number(length) > limit) return Promise.resolve("too-large");
  if (req.headers["transfer-encoding"] === undefined && (length === undefined || length === "0")) {
    return Promise.resolve(EMPTY);
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off("data", onData);
        req.pause();
        resolve("too-large");
      } else chunks.push(chunk);
    };
    req.on("data", onData);
    req.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    req.once("error", reject);
    // After "end" this changes nothing (a promise settles once).
    req.once("close", () => resolve("aborted"));
  });
}

const EMPTY = Buffer.alloc(0);

/** The request as it crosses into the sandbox. Text bodies travel as strings, others as base64. */
export function requestData(
  req: IncomingMessage,
  url: string,
  body: Buffer,
  route: string,
  params: Record<string, string>,
  requestId: string,
  options: { trustProxy: boolean; dropAuthorization: boolean },
): HttpRequestData {
  const headers: [string, string][] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (options.dropAuthorization && name.length === 13 && name.toLowerCase() === "authorization") continue;
    headers.push([name, raw[i + 1]!]);
  }
  const proto = (options.trustProxy && firstValue(req.headers["x-forwarded-proto"])) || "http";
  const host =
    (options.trustProxy && firstValue(req.headers["x-forwarded-host"])) || req.headers.host || "localhost";
  const data: HttpRequestData = {
    method: req.method ?? "GET",
    url: `${proto}://${host}${url}`,
    headers,
    params,
    route,
    requestId,
    clientIp: clientAddress(req, options.trustProxy),
  };
  if (body.length > 0) {
    const text = isTextual(req.headers["content-type"]) ? decode(body) : undefined;
    if (text !== undefined) data.body = text;
    else {
      data.body = body.toString("base64");
      data.bodyEncoding = "base64";
    }
  }
  return data;
}

/** The client's address: the socket's, or with `trustProxy` the first of `X-Forwarded-For`. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const xff = firstValue(req.headers["x-forwarded-for"]);
    if (xff) return xff.split(",")[0]!.trim();
  }
  return req.socket.remoteAddress ?? "unknown";
}

function firstValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function decode(body: Buffer): string | undefined {
  try {
    return utf8.decode(body);
  } catch {
    return undefined;
  }
}
