import type { FastifyPluginAsync } from "fastify";
import type {
  CacheInvalidateParams,
  CacheInvalidateResponse,
  CacheStats,
  OpenApiDocument,
  RoutesResponse,
} from "eddy";
import type { Query } from "eddy/internal";
import type { Gateway } from "../../gateway/gateway.js";
import { openApiDocument } from "../../gateway/openapi.js";

type InvalidateRoute = { Querystring: Query<CacheInvalidateParams>; Reply: CacheInvalidateResponse };

/**
 * The gateway's admin side: `GET /v1/routes` (every route and its function), `GET /v1/openapi.json`
 * (OpenAPI 3.1 from the routes), `DELETE /v1/cache?function=NAME&path=PREFIX` (drop cached
 * responses; both filters optional) and `GET /v1/cache` (its size).
 */
export const gatewayRoutes: FastifyPluginAsync<{ gateway: Gateway }> = async (app, { gateway }) => {
  app.get<{ Reply: RoutesResponse }>("/v1/routes", async () => ({
    prefix: gateway.routes.prefix,
    routes: gateway.routes.routes().map(({ fn, name, trigger: { kind: _kind, ...options } }) => ({
      function: fn,
      route: name,
      ...options,
    })),
  }));

  app.get<{ Reply: OpenApiDocument }>("/v1/openapi.json", async (req) => {
    const host = req.headers.host ?? "127.0.0.1";
    return openApiDocument(gateway.routes, `${req.protocol}://${host}`);
  });

  app.get<{ Reply: CacheStats }>("/v1/cache", async () => gateway.cache.stats());

  app.delete<InvalidateRoute>("/v1/cache", async (req) => ({
    invalidated: gateway.invalidate(req.query.function, req.query.path),
  }));
};
