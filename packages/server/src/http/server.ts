import Fastify from "fastify";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import type { Deployer } from "../deploy/deployer.js";
import type { Engine } from "../engine.js";
import type { Authenticator } from "../auth/authenticator.js";
import type { KeyStore } from "../auth/keys.js";
import type { Gateway } from "../gateway/gateway.js";
import type { AuthMode } from "./auth.js";
import { apiAuthHook } from "./auth.js";
import { BodyBudget, budgetGauge } from "./body-budget.js";
import type { ConnectionLimits } from "./connections.js";
import { limitedServer } from "./connections.js";
import { hostCheckHook } from "./host-check.js";
import { gatewayRoutes } from "./routes/gateway.js";
import { keyRoutes } from "./routes/keys.js";
import { problem, problemOf, sendProblem } from "./problem.js";
import { deadLetterRoutes } from "./routes/dead-letters.js";
import { deliveryRoutes } from "./routes/deliveries.js";
import { deployRoutes } from "./routes/deploy.js";
import { eventRoutes } from "./routes/events.js";
import { functionRoutes } from "./routes/functions.js";
import { graphRoutes } from "./routes/graph.js";
import { healthRoutes } from "./routes/health.js";
import { invocationRoutes } from "./routes/invocations.js";
import { runRoutes } from "./routes/runs.js";
import { logRoutes } from "./routes/logs.js";
import { observabilityRoutes } from "./routes/observability.js";
import { patternRoutes } from "./routes/patterns.js";
import { queueRoutes } from "./routes/queues.js";
import { usageRoutes } from "./routes/usage.js";
import type { Pricing } from "../observability/usage.js";

/** Limits of the HTTP API. */
export interface HttpOptions {
  /** Largest request body (a whole batch). Default 4 MiB. */
  maxBodyBytes: number;
  /** True once shutdown began: new requests get 503 while the ones in flight finish. */
  closing: () => boolean;
  pricing: Pricing;
  /** Versions and deploys. */
  deployer: Deployer;
  /** Who may deploy, publish, invoke. */
  auth: Authenticator;
  /** Who must present credentials. */
  authMode: AuthMode;
  /** API keys. */
  keys: KeyStore;
  /** Function routes, served in front of the API. */
  gateway: Gateway;
  /** Timeouts and the connection cap of the server (API and routes alike). */
  connections: ConnectionLimits;
  /** When set, the `/v1` API answers only these `Host`s and `Origin`s (see host-check.ts). */
  allowedHosts?: ReadonlySet<string>;
}

/**
 * The HTTP API under /v1, on Fastify. Every error leaves as RFC 9457 problem+json, including the
 * ones Fastify raises itself (body too large, bad JSON, unknown route).
 */
export function createHttpServer(engine: Engine, options: HttpOptions): FastifyInstance {
  const budget = new BodyBudget(options.connections.maxBufferedBodyBytes);
  if (engine.observer.enabled) budgetGauge(engine.observer.metrics.registry, budget);
  const app = Fastify({
    // Per-request lines at info level would flood the log at thousands of events/s: warn and up only.
    // (pino 10 and Fastify's bundled pino types differ only in optional members.)
    loggerInstance: engine.log.child(
      { component: "http" },
      { level: "warn" },
    ) as unknown as FastifyBaseLogger,
    bodyLimit: options.maxBodyBytes,
    // Event ids and sources may be long; keep Fastify from cutting them silently.
    routerOptions: { maxParamLength: 1_000 },
    // Function routes go to the gateway first; what it does not serve is the API's.
    serverFactory: (handler) =>
      limitedServer(
        (req, res) => {
          if (!options.gateway.handle(req, res)) handler(req, res);
        },
        options.connections,
        budget,
      ),
  });
  if (options.allowedHosts) app.addHook("onRequest", hostCheckHook(options.allowedHosts));
  if (options.authMode === "all") app.addHook("onRequest", apiAuthHook(options.auth));

  app.addHook("onRequest", async (_req, reply) => {
    if (options.closing()) {
      reply.header("connection", "close");
      return sendProblem(
        reply,
        problem(
          "EDDY_SHUTTING_DOWN",
          "Shutting down",
          "this server is stopping; retry in a moment or elsewhere",
        ),
      );
    }
  });

  // The one error handler of the API: an EddyError of a registered condition answers with its
  // status and code (routes throw, they keep no error maps); Fastify's own errors map below.
  app.setErrorHandler(
    (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
      const registered = problemOf(err);
      if (registered) {
        if (registered.status >= 500) req.log.error({ err }, "request failed");
        return sendProblem(reply, registered);
      }
      const status = err.statusCode ?? 500;
      if (err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
        return sendProblem(
          reply,
          problem(
            "EDDY_PAYLOAD_TOO_LARGE",
            "Request body too large",
            `the body is over ${options.maxBodyBytes} bytes`,
          ),
        );
      }
      if (err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
        return sendProblem(
          reply,
          problem("EDDY_UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", err.message),
        );
      }
      if (status >= 400 && status < 500) {
        const code =
          err instanceof SyntaxError || err.code === "FST_ERR_CTP_EMPTY_JSON_BODY"
            ? "EDDY_INVALID_JSON"
            : "EDDY_INVALID_REQUEST";
        return sendProblem(reply, problem(code, "Bad request", err.message, { status }));
      }
      req.log.error({ err }, "request failed");
      return sendProblem(
        reply,
        problem("EDDY_INTERNAL", "Internal error", "the server failed; see its logs"),
      );
    },
  );
  app.setNotFoundHandler((req, reply) =>
    sendProblem(
      reply,
      problem("EDDY_NOT_FOUND", "Not found", `no route ${req.method} ${req.url.split("?")[0]}`),
    ),
  );

  void app.register(healthRoutes, { engine });
  void app.register(eventRoutes, { engine });
  void app.register(patternRoutes);
  void app.register(functionRoutes, { engine, deployer: options.deployer });
  void app.register(graphRoutes, { engine });
  void app.register(deployRoutes, { deployer: options.deployer, auth: options.auth });
  void app.register(invocationRoutes, { engine, auth: options.auth, authMode: options.authMode });
  void app.register(keyRoutes, { keys: options.keys, auth: options.auth });
  void app.register(gatewayRoutes, { gateway: options.gateway });
  void app.register(deadLetterRoutes, { engine });
  void app.register(deliveryRoutes, { engine });
  void app.register(queueRoutes, { engine });
  void app.register(observabilityRoutes, { engine });
  void app.register(logRoutes, { engine });
  void app.register(usageRoutes, { engine, pricing: options.pricing });
  void app.register(runRoutes, { engine });
  return app;
}
