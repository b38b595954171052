import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";

export interface ProbeServer {
  /** The port it listens on (the one asked for, or the one the system chose for 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The probes of a replica that `eddy worker --port` runs (a Kubernetes pod has no control plane beside
 * it to ask): `GET /healthz` answers while the process does, `GET /readyz` 200 once `ready()` says so,
 * else 503. Nothing else is served, and nothing needs a token: they tell only whether it runs.
 */
export function probeApp(ready: () => boolean): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ ok: true }));
  app.get("/readyz", (c) => (ready() ? c.json({ ready: true }) : c.json({ ready: false }, 503)));
  return app;
}

export async function startProbeServer(options: { host: string; port: number; ready: () => boolean }): Promise<ProbeServer> {
  const app = probeApp(options.ready);
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: options.host, port: options.port }, () => resolve(s));
    s.once("error", reject);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
