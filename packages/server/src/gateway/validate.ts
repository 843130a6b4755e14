import type { ErrorObject, ValidateFunction } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { JsonSchema } from "eddy";

/** One failing part of a request, as problem documents list them. */
export interface FieldError {
  path: string;
  message: string;
}

/** Checks a value; resolves the failing paths, or undefined when it is valid. */
export type Validator = (value: unknown) => FieldError[] | undefined;

// ajv-formats is CommonJS with a default export.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
// Query values arrive as strings (repeated parameters as arrays): coerce them to the schema's types.
const bodies = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const queries = addFormats(new Ajv2020({ allErrors: true, strict: false, coerceTypes: "array" }));

/**
 * Compiles a route's JSON Schema (draft 2020-12, with ajv-formats' formats) into a
 * {@link Validator} whose paths start at `root` ("body", "query"). Throws if the schema is invalid.
 */
export function compileValidator(schema: JsonSchema, root: "body" | "query"): Validator {
  const validate: ValidateFunction = (root === "query" ? queries : bodies).compile(schema);
  return (value) => (validate(value) ? undefined : (validate.errors ?? []).map((e) => fieldError(e, root)));
}

function fieldError(e: ErrorObject, root: string): FieldError {
  let path = root + e.instancePath.split("/").slice(1).map(segment).join("");
  const p = e.params as { missingProperty?: string; additionalProperty?: string };
  if (p.missingProperty !== undefined) path += segment(p.missingProperty);
  if (p.additionalProperty !== undefined) path += segment(p.additionalProperty);
  return { path, message: e.message ?? "is invalid" };
}

function segment(raw: string): string {
  const s = raw.replace(/~1/g, "/").replace(/~0/g, "~");
  if (/^\d+$/.test(s)) return `[${s}]`;
  return /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
}
