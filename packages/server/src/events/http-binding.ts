/**
 * CloudEvents HTTP protocol binding 1.0: structured, binary and batch content modes
 * (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/http-protocol-binding.md).
 *
 * Decoding is kept apart from validation: this file only turns a request into candidate events,
 * `envelope.ts` decides whether each one is acceptable.
 */
import type { Refusal } from "./envelope.js";
import type { ProblemCode } from "../errors/http.js";

/** The parts of an HTTP request the binding looks at. */
export interface BindingRequest {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Candidate events, each either decoded or refused on its own. */
export interface DecodedEvents {
  mode: "structured" | "binary" | "batch";
  items: ({ value: unknown } | { refusal: Refusal })[];
}

const STRUCTURED = "application/cloudevents+json";
const BATCH = "application/cloudevents-batch+json";

/**
 * Decodes a `POST /v1/events` request. Plain `application/json` is accepted as a convenience for
 * curl users: an object is a structured event, an array a batch.
 */
export function decodeEvents(req: BindingRequest): DecodedEvents | Refusal {
  const contentType = header(req, "content-type") ?? "";
  const mediaType = contentType.split(";")[0]!.trim().toLowerCase();
  if (header(req, "ce-specversion") !== undefined) return decodeBinary(req, contentType, mediaType);
  if (mediaType === STRUCTURED || mediaType === BATCH || mediaType === "application/json") {
    const parsed = parseJson(req.body);
    if ("refusal" in parsed) return parsed.refusal;
    const batch = mediaType === BATCH || (mediaType === "application/json" && Array.isArray(parsed.value));
    if (!batch) return { mode: "structured", items: [{ value: parsed.value }] };
    if (!Array.isArray(parsed.value)) {
      return refusal(
        400,
        "EDDY_INVALID_EVENT",
        "Invalid batch",
        `a ${BATCH} body must be a JSON array of events`,
      );
    }
    if (parsed.value.length === 0) {
      return refusal(400, "EDDY_INVALID_EVENT", "Empty batch", "the batch holds no events");
    }
    return { mode: "batch", items: parsed.value.map((value: unknown) => ({ value })) };
  }
  return refusal(
    415,
    "EDDY_UNSUPPORTED_MEDIA_TYPE",
    "Unsupported media type",
    `content-type ${JSON.stringify(contentType)} is not a CloudEvents mode: send ${STRUCTURED}, ${BATCH}, application/json, or binary mode with ce-* headers`,
  );
}

function decodeBinary(req: BindingRequest, contentType: string, mediaType: string): DecodedEvents | Refusal {
  const event: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(req.headers)) {
    if (!name.toLowerCase().startsWith("ce-") || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(",") : raw;
    // Header values are percent-encoded where they are not printable ASCII (binding spec 3.1.3.2).
    try {
      event[name.slice(3).toLowerCase()] = decodeURIComponent(value);
    } catch {
      return refusal(
        400,
        "EDDY_INVALID_EVENT",
        "Invalid header",
        `header ${name} is not valid percent-encoding`,
      );
    }
  }
  if (contentType) event.datacontenttype = contentType;
  if (req.body.length > 0) {
    if (mediaType === "application/json" || mediaType.endsWith("+json")) {
      const parsed = parseJson(req.body);
      if ("refusal" in parsed) return parsed.refusal;
      event.data = parsed.value;
    } else if (mediaType.startsWith("text/") || mediaType === "application/xml") {
      event.data = req.body.toString("utf8");
    } else {
      event.data_base64 = req.body.toString("base64");
    }
  }
  return { mode: "binary", items: [{ value: event }] };
}

function parseJson(body: Buffer): { value: unknown } | { refusal: Refusal } {
  try {
    return { value: JSON.parse(body.toString("utf8")) as unknown };
  } catch (err) {
    return {
      refusal: refusal(
        400,
        "EDDY_INVALID_JSON",
        "Malformed JSON",
        `the body is not valid JSON: ${(err as Error).message}`,
      ),
    };
  }
}

function header(req: BindingRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function refusal(status: number, code: ProblemCode, title: string, detail: string): Refusal {
  return { status, code, title, detail };
}
