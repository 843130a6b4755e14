import type { HttpTrigger } from "../triggers/index.js";

/** A gateway route and the function it runs: the trigger's options, without `kind`. */
export type RouteView = { function: string; route: string } & Omit<HttpTrigger, "kind">;

/** `GET /v1/routes` answer. */
export interface RoutesResponse {
  /** Prepended to every route's path ("" by default). */
  prefix: string;
  routes: RouteView[];
}

/** `GET /v1/cache` answer: the gateway's response cache. */
export interface CacheStats {
  entries: number;
  bytes: number;
  maxBytes: number;
}

/** Parameters of `DELETE /v1/cache` (both optional: without them, everything). */
export interface CacheInvalidateParams {
  function?: string;
  /** A path prefix. */
  path?: string;
}

/** `DELETE /v1/cache` answer. */
export interface CacheInvalidateResponse {
  invalidated: number;
}

/** `GET /v1/openapi.json`: an OpenAPI 3.1 document of the routes. */
export type OpenApiDocument = Record<string, unknown>;
