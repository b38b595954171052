import { Hono } from "hono";
import { dashboardRoutes } from "../dashboard/dashboard-routes.js";
import { log } from "../log.js";
import { authenticate, requireToken } from "./auth.js";
import { httpError, toErrorResponse } from "./errors.js";
import type { FunctionService } from "./function-service.js";
import { functionsDocs, functionsRoutes } from "./functions-routes.js";
import { historyDocs, historyRoutes } from "./history-routes.js";
import { logsDocs, logsRoutes } from "./logs-routes.js";
import { openApiDocument, type RouteDoc } from "./openapi.js";
import { operationsDocs, operationsRoutes } from "./operations-routes.js";
import { readBody } from "./read-body.js";
import { requireScope } from "./route-scopes.js";
import { secretsDocs, secretsRoutes } from "./secrets-routes.js";
import { TokenStore, type TokenService } from "./token-store.js";
import { tokensDocs, tokensRoutes } from "./tokens-routes.js";
import { versionsDocs, versionsRoutes } from "./versions-routes.js";

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface AppDeps {
  service: FunctionService;
  /** The admin token (EDDY_API_TOKEN or `<dataDir>/token`). */
  token: string;
  /** Scoped tokens (the `<prefix>tokens` topic); tests may leave it out for an empty store held in memory. */
  tokens?: TokenService;
  /** "token": `/metrics` needs a valid token of any scope (EDDY_METRICS_AUTH); default "none". */
  metricsAuth?: "none" | "token";
  /** Whether the control plane can serve: registry loaded and broker reachable. */
  ready: () => boolean;
}

const API_VERSION = "1.0.0";

/** Every route, as `GET /v1/openapi.json` documents it. */
export const routeDocs: RouteDoc[] = [
  ...functionsDocs,
  ...versionsDocs,
  ...operationsDocs,
  ...logsDocs,
  ...historyDocs,
  ...secretsDocs,
  ...tokensDocs,
  { method: "get", path: "/v1/openapi.json", summary: "This document", responses: { 200: { description: "The OpenAPI 3.1 document" } } },
  { method: "get", path: "/metrics", summary: "Prometheus metrics (no token, unless EDDY_METRICS_AUTH=token: then any valid token)", responses: { 200: { description: "Text exposition format", contentType: "text/plain" }, 401: { description: "EDDY_METRICS_AUTH=token and no valid token" } } },
  { method: "get", path: "/healthz", summary: "Liveness (no token)", responses: { 200: { description: "Alive" } } },
  { method: "get", path: "/", summary: "The web dashboard (no token: the page asks for one)", responses: { 200: { description: "The page", contentType: "text/html" } } },
  { method: "get", path: "/readyz", summary: "Readiness (no token)", responses: { 200: { description: "Ready" }, 503: { description: "Not ready yet" } } },
];

/**
 * The HTTP API of SPEC §6: one small hono app per resource under /v1, with auth, limits and the
 * error shape here. Built without a socket, so tests can call `app.request()`.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const tokens = deps.tokens ?? TokenStore.inMemory();

  app.route("/", dashboardRoutes());
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => (deps.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)));
  app.get("/metrics", async (c) => {
    if (deps.metricsAuth === "token" && !authenticate(c, deps.token, tokens)) {
      throw httpError("EDDY_UNAUTHORIZED", "/metrics needs a token (EDDY_METRICS_AUTH=token): send 'Authorization: Bearer <token>'");
    }
    const { contentType, text } = await deps.service.metrics();
    return c.body(text, 200, { "content-type": contentType });
  });

  app.use("/v1/*", requireToken(deps.token, tokens));
  // Before any check that can answer: an answer must never leave a body unread (read-body.ts says why).
  app.use("/v1/*", readBody(MAX_BODY_BYTES));
  app.use("/v1/*", requireScope());
  app.use("/v1/*", async (c, next) => {
    const type = c.req.header("content-type");
    if (["POST", "PUT", "PATCH"].includes(c.req.method) && type !== undefined && !type.startsWith("application/json")) {
      throw httpError("EDDY_UNSUPPORTED_MEDIA_TYPE", `expected Content-Type application/json, got ${type}`);
    }
    await next();
  });
  const document = openApiDocument(routeDocs, API_VERSION);
  app.get("/v1/openapi.json", (c) => c.json(document));
  app.route("/v1/functions", functionsRoutes(deps.service));
  app.route("/v1/functions", versionsRoutes(deps.service));
  app.route("/v1/functions", operationsRoutes(deps.service));
  app.route("/v1", historyRoutes(deps.service));
  app.route("/v1/functions", logsRoutes(deps.service));
  app.route("/v1/functions", secretsRoutes(deps.service));
  app.route("/v1/tokens", tokensRoutes(tokens));

  app.notFound((c) => c.json({ error: { code: "EDDY_NOT_FOUND", message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error, c) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) log.error({ err: error, method: c.req.method, path: c.req.path }, "request failed");
    return c.json(body, status);
  });
  return app;
}
