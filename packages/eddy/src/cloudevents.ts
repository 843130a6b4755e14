/**
 * CloudEvents 1.0 model and validation (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md).
 *
 * Lives in the SDK so that a producer can check an event before sending it and the server applies
 * exactly the same rules on ingest.
 */

/** The context attributes and data of a CloudEvent 1.0, without extensions. */
export interface CloudEventAttributes<TData = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  subject?: string;
  time?: string;
  datacontenttype?: string;
  dataschema?: string;
  data?: TData;
  data_base64?: string;
}

/**
 * A CloudEvent 1.0 in its JSON (structured) form. `data` is any JSON value; binary payloads use
 * `data_base64`. Extension attributes: lower-case a-z0-9 names, string/integer/boolean values.
 */
export type CloudEvent<TData = unknown> = CloudEventAttributes<TData> & { [extension: string]: unknown };

/** What a producer has to give: `specversion`, `id` and `source` are filled in when missing. */
export type EventInput<TData = unknown> = Omit<
  CloudEventAttributes<TData>,
  "specversion" | "id" | "source"
> & {
  specversion?: "1.0";
  id?: string;
  source?: string;
  [extension: string]: unknown;
};

/** One problem found in an event: where (attribute name) and what. */
export interface EventProblem {
  path: string;
  message: string;
}

const REQUIRED = ["id", "source", "specversion", "type"] as const;
const STRING_ATTRS = ["id", "source", "type", "subject", "datacontenttype", "dataschema", "time"] as const;
const CONTEXT_ATTRS = new Set<string>([...STRING_ATTRS, "specversion", "data", "data_base64"]);
// Spec: "CloudEvents attribute names MUST consist of lower-case letters ('a' to 'z') or digits ('0' to '9')".
const ATTRIBUTE_NAME = /^[a-z0-9]+$/;
// RFC 3339 date-time (section 5.6), with the leap second allowed and any fraction length.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2}|60)(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MAX_ATTRIBUTE_NAME = 20;

/**
 * Checks a value against CloudEvents 1.0 and returns every problem found (empty when valid).
 *
 * @example
 * const problems = validateCloudEvent({ specversion: "1.0", id: "1", source: "/shop", type: "order.paid" });
 * // problems.length === 0
 */
export function validateCloudEvent(value: unknown): EventProblem[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return [{ path: "", message: `an event must be a JSON object, got ${describe(value)}` }];
  }
  const ev = value as Record<string, unknown>;
  const problems: EventProblem[] = [];
  for (const name of REQUIRED) {
    if (ev[name] === undefined || ev[name] === null) {
      problems.push({ path: name, message: `required attribute "${name}" is missing` });
    }
  }
  if (ev.specversion !== undefined && ev.specversion !== null && ev.specversion !== "1.0") {
    problems.push({
      path: "specversion",
      message: `unsupported specversion ${JSON.stringify(ev.specversion)}; Eddy accepts CloudEvents "1.0"`,
    });
  }
  for (const name of STRING_ATTRS) {
    const v = ev[name];
    if (v === undefined || v === null) continue;
    if (typeof v !== "string") {
      problems.push({ path: name, message: `"${name}" must be a string, got ${describe(v)}` });
    } else if (v.length === 0 && name !== "subject") {
      problems.push({ path: name, message: `"${name}" must be a non-empty string` });
    }
  }
  if (typeof ev.time === "string" && ev.time !== "" && !isRfc3339(ev.time)) {
    problems.push({
      path: "time",
      message: `"time" must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z, got ${JSON.stringify(ev.time)}`,
    });
  }
  if (ev.data !== undefined && ev.data_base64 !== undefined) {
    problems.push({ path: "data_base64", message: `an event has either "data" or "data_base64", not both` });
  }
  if (ev.data_base64 !== undefined) {
    if (typeof ev.data_base64 !== "string" || !BASE64.test(ev.data_base64)) {
      problems.push({ path: "data_base64", message: `"data_base64" must be a base64 string` });
    }
  }
  for (const [name, v] of Object.entries(ev)) {
    if (CONTEXT_ATTRS.has(name)) continue;
    if (!ATTRIBUTE_NAME.test(name)) {
      problems.push({
        path: name,
        message: `extension attribute names must be lower-case letters and digits only, got "${name}"`,
      });
    } else if (name.length > MAX_ATTRIBUTE_NAME) {
      problems.push({ path: name, message: `extension attribute names are at most 20 characters long` });
    } else if (v !== null && !["string", "number", "boolean"].includes(typeof v)) {
      problems.push({
        path: name,
        message: `extension attribute "${name}" must be a string, number or boolean, got ${describe(v)}`,
      });
    } else if (typeof v === "number" && !(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31)) {
      // The CloudEvents type system has only 32-bit signed integers; other numbers go in "data".
      problems.push({
        path: name,
        message: `extension attribute "${name}" must be a 32-bit integer (or a string), got ${v}`,
      });
    }
  }
  return problems;
}

/** True when `value` is a date-time as RFC 3339 defines it (and the date exists). */
export function isRfc3339(value: string): boolean {
  const m = RFC3339.exec(value);
  if (!m) return false;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as number[];
  if (month! < 1 || month! > 12 || hour! > 23 || minute! > 59) return false;
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (day! < 1 || day! > daysInMonth) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return true;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  return typeof v === "object" ? "an object" : `${typeof v} ${String(v)}`;
}
