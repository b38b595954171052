import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { log } from "../log.js";
import { requireToken } from "./auth.js";
import { httpError, toErrorResponse } from "./errors.js";
import { functionsRoutes, type FunctionsRouteDeps } from "./functions-routes.js";

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export interface AppDeps extends FunctionsRouteDeps {
  token: string;
  /** Whether the control plane can serve: registry loaded and broker reachable. */
  ready: () => boolean;
}

/** The HTTP API of SPEC §6. Built without a socket, so tests can call `app.request()`. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => (deps.ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)));

  app.use("/v1/*", requireToken(deps.token));
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw httpError("EDDY_PAYLOAD_TOO_LARGE", `the body is larger than ${MAX_BODY_BYTES / 1024 / 1024} MB`);
      },
    }),
  );
  app.use("/v1/*", async (c, next) => {
    const type = c.req.header("content-type");
    if (["POST", "PUT", "PATCH"].includes(c.req.method) && type !== undefined && !type.startsWith("application/json")) {
      throw httpError("EDDY_UNSUPPORTED_MEDIA_TYPE", `expected Content-Type application/json, got ${type}`);
    }
    await next();
  });
  app.route("/v1/functions", functionsRoutes(deps));

  app.notFound((c) => c.json({ error: { code: "EDDY_NOT_FOUND", message: `no route ${c.req.method} ${c.req.path}` } }, 404));
  app.onError((error, c) => {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) log.error({ err: error, method: c.req.method, path: c.req.path }, "request failed");
    return c.json(body, status);
  });
  return app;
}
