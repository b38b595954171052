import { describe, expect, it } from "vitest";
import { startProbeServer } from "./probe-server.js";

describe("a worker replica's probe server", () => {
  it("answers /healthz always and /readyz only once the replica is ready", async () => {
    let ready = false;
    const server = await startProbeServer({ host: "127.0.0.1", port: 0, ready: () => ready });
    try {
      const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
      expect((await get("/healthz")).status).toBe(200);
      const notYet = await get("/readyz");
      expect(notYet.status).toBe(503);
      expect(await notYet.json()).toEqual({ ready: false });
      ready = true;
      expect((await get("/readyz")).status).toBe(200);
      expect((await get("/v1/functions")).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
