import type { HttpTrigger } from "eddy";
import type { RouteTable } from "./routes.js";

type Json = Record<string, unknown>;

const PROBLEM = { $ref: "#/components/responses/Problem" };

/**
 * An OpenAPI 3.1 document of the gateway's routes: paths with their parameters, the JSON Schemas
 * of body and query (3.1 speaks JSON Schema 2020-12, as the routes do), the bearer scheme on
 * private routes, and the refusals each route can answer with.
 *
 * @example
 * openApiDocument(gateway.routes, "http://127.0.0.1:8080").paths["/orders/{id}"].get
 */
export function openApiDocument(table: RouteTable, serverUrl: string): Json {
  const paths: Record<string, Json> = {};
  const ids = new Map<string, number>();
  for (const r of table.routes()) {
    const t = r.trigger;
    const path = toOpenApiPath(table.prefix + t.path);
    const item = (paths[path] ??= {});
    const methods = t.method === "ANY" ? ["get", "post", "put", "patch", "delete"] : [t.method.toLowerCase()];
    for (const method of methods) {
      const n = (ids.get(r.fn) ?? 0) + 1;
      ids.set(r.fn, n);
      item[method] = operation(t, path, n === 1 ? r.fn : `${r.fn}_${n}`, r.fn);
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Eddy routes",
      version: "1.0.0",
      description: "The HTTP routes of the deployed functions.",
    },
    servers: [{ url: serverUrl }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "An Eddy API key (eddy_…) or a JWT" },
      },
      responses: {
        Problem: {
          description: "A refusal (RFC 9457); `code` is documented in docs/errors.md",
          content: {
            "application/problem+json": {
              schema: {
                type: "object",
                required: ["type", "title", "status", "detail", "code"],
                properties: {
                  type: { type: "string" },
                  title: { type: "string" },
                  status: { type: "integer" },
                  detail: { type: "string" },
                  code: { type: "string" },
                  errors: {
                    type: "array",
                    items: {
                      type: "object",
                      properties: { path: { type: "string" }, message: { type: "string" } },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  };
}

function operation(t: HttpTrigger, path: string, operationId: string, fn: string): Json {
  const parameters: Json[] = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema: { type: "string" },
  }));
  const query = t.schema?.query;
  if (typeof query === "object" && query.properties && typeof query.properties === "object") {
    const required = Array.isArray(query.required) ? (query.required as string[]) : [];
    for (const [name, schema] of Object.entries(query.properties as Record<string, unknown>)) {
      parameters.push({ name, in: "query", required: required.includes(name), schema });
    }
  }
  const responses: Json =
    t.mode === "async"
      ? {
          "202": {
            description: "Accepted: the function runs as a durable delivery; follow the Location",
            headers: { Location: { schema: { type: "string" }, description: "/v1/invocations/ID" } },
          },
        }
      : { "200": { description: "The function's response" }, "502": PROBLEM, "504": PROBLEM };
  if (t.schema) responses["400"] = PROBLEM;
  if (!t.public) {
    responses["401"] = PROBLEM;
    responses["403"] = PROBLEM;
  }
  responses["413"] = PROBLEM;
  if (t.rateLimit) responses["429"] = PROBLEM;
  const op: Json = {
    operationId,
    tags: [fn],
    parameters,
    responses,
    security: t.public ? [] : [{ bearer: [] }],
  };
  if (t.summary) op.summary = t.summary;
  if (t.description) op.description = t.description;
  if (t.schema?.body !== undefined) {
    op.requestBody = { required: true, content: { "application/json": { schema: t.schema.body } } };
  }
  return op;
}

/** `/orders/:id/*` → `/orders/{id}/{wildcard}`. */
function toOpenApiPath(path: string): string {
  return (path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}").replace(/\/\*$/, "/{wildcard}") || "/").replace(
    /(.)\/$/,
    "$1",
  );
}
