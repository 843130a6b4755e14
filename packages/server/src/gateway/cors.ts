import type { HttpCors } from "eddy";
import type { FlatHeaders } from "./respond.js";

/** Whether `origin` may call a route with this CORS configuration. */
function allowed(cors: HttpCors, origin: string): boolean {
  return cors.origins.includes("*") || cors.origins.includes(origin);
}

/**
 * Adds the CORS headers of an actual (not preflight) response to `out`. A disallowed origin gets
 * none: the browser then hides the response from the page, which is how CORS refuses.
 */
export function corsHeaders(cors: HttpCors | undefined, origin: string | undefined, out: FlatHeaders): void {
  if (!cors || origin === undefined || !allowed(cors, origin)) return;
  const any = cors.origins.includes("*") && !cors.credentials;
  out.push("access-control-allow-origin", any ? "*" : origin);
  if (!any) out.push("vary", "origin");
  if (cors.credentials) out.push("access-control-allow-credentials", "true");
  if (cors.exposeHeaders?.length) out.push("access-control-expose-headers", cors.exposeHeaders.join(", "));
}

/**
 * The headers answering a preflight (`OPTIONS` with `Access-Control-Request-Method`) for a route
 * with CORS, or undefined when the origin is not allowed. `methods`: every method with CORS at
 * the path.
 */
export function preflightHeaders(
  cors: HttpCors,
  origin: string,
  methods: string[],
  requestedHeaders: string | undefined,
): FlatHeaders | undefined {
  if (!allowed(cors, origin)) return undefined;
  const out: FlatHeaders = [];
  corsHeaders(cors, origin, out);
  out.push("access-control-allow-methods", methods.join(", "));
  const headers = cors.headers?.join(", ") ?? requestedHeaders;
  if (headers) out.push("access-control-allow-headers", headers);
  if (cors.maxAgeS !== undefined) out.push("access-control-max-age", cors.maxAgeS);
  if (cors.headers === undefined) out.push("vary", "access-control-request-headers");
  return out;
}
