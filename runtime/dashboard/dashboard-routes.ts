import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Hono } from "hono";
import { dashboardDir } from "./build-dashboard.js";

const FILES: Record<string, { file: string; type: string }> = {
  "/": { file: "index.html", type: "text/html; charset=utf-8" },
  "/dashboard/app.js": { file: "app.js", type: "text/javascript; charset=utf-8" },
  "/dashboard/app.js.map": { file: "app.js.map", type: "application/json" },
  "/dashboard/app.css": { file: "app.css", type: "text/css; charset=utf-8" },
};

/**
 * The web dashboard (`GET /`): static files, served without a token (the page asks for one and sends
 * it with each API call). Read from dist/dashboard/ once, on first request.
 */
export function dashboardRoutes(): Hono {
  const app = new Hono();
  const cache = new Map<string, Promise<Buffer>>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async (c) => {
      let content = cache.get(file);
      if (content === undefined) cache.set(file, (content = readFile(join(dashboardDir(), file))));
      const body = await content.catch(() => undefined);
      if (body === undefined) {
        cache.delete(file);
        return c.json({ error: { code: "EDDY_NOT_BUILT", message: "the dashboard is not built: run `npm run build`" } }, 503);
      }
      // The page never holds data: the browser may keep it, but must ask again after a new build.
      return c.body(new Uint8Array(body), 200, { "content-type": type, "cache-control": "no-cache", "x-content-type-options": "nosniff" });
    });
  }
  return app;
}
