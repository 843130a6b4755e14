/**
 * HTTP inside the sandbox: the request data becomes a web-standard `Request` for the handler, and
 * what the handler returns (a `Response`, or a plain value sent as JSON) becomes data again.
 */
import { InvalidResultError } from "../../errors/attempt.js";
import type { HttpRequestData, HttpResponseData } from "../protocol.js";

const TEXT =
  /^(text\/|application\/(json|[^;]*\+json|xml|[^;]*\+xml|javascript|x-www-form-urlencoded|graphql)\b)/i;

/** True for content types whose bodies are text (sent as strings across the boundary). */
export function isTextual(contentType: string | null | undefined): boolean {
  return contentType !== null && contentType !== undefined && TEXT.test(contentType);
}

/** The `Request` a handler gets. */
export function toRequest(data: HttpRequestData): Request {
  const init: RequestInit = { method: data.method, headers: data.headers };
  if (data.body !== undefined && data.method !== "GET" && data.method !== "HEAD") {
    init.body = data.bodyEncoding === "base64" ? Buffer.from(data.body, "base64") : data.body;
  }
  return new Request(data.url, init);
}

/** Turns what an HTTP handler returned into response data. */
export async function toResponseData(out: unknown): Promise<HttpResponseData> {
  if (out instanceof Response) {
    const headers: [string, string][] = [];
    for (const [k, v] of out.headers) headers.push([k, v]);
    if (out.body === null) return { status: out.status, headers };
    if (isTextual(out.headers.get("content-type"))) {
      return { status: out.status, headers, body: await out.text() };
    }
    const bytes = Buffer.from(await out.arrayBuffer());
    return { status: out.status, headers, body: bytes.toString("base64"), bodyEncoding: "base64" };
  }
  if (out === undefined) return { status: 204, headers: [] };
  const body = JSON.stringify(out);
  if (body === undefined) {
    throw new TypeError(`an HTTP handler must return a Response or a JSON value, got ${typeof out}`);
  }
  return { status: 200, headers: [["content-type", "application/json; charset=utf-8"]], body };
}

/** A plain handler's return value as JSON data, or a string when it has no JSON form. */
export function jsonResult(out: unknown): unknown {
  if (out === undefined) return undefined;
  try {
    const json = JSON.stringify(out);
    return json === undefined ? undefined : (JSON.parse(json) as unknown);
  } catch (err) {
    // Nested deeper than the stack (or too large for a string): no String() of it says anything.
    if (err instanceof RangeError) {
      throw new InvalidResultError(`its return value could not be written as JSON (${err.message})`);
    }
    return String(out);
  }
}
