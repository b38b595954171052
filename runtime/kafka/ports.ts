import { connect, createServer } from "node:net";
import { LOCAL_HOST } from "./broker-properties.js";

/** True when nothing listens on `port` at `host` (binding it succeeds). */
export function isPortFree(port: number, host = LOCAL_HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port the OS considers free right now. Another process may take it before the broker binds it;
 * the broker manager retries on a bind failure.
 */
export function freePort(host = LOCAL_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error("the OS gave no port"))));
    });
  });
}

/** `preferred` when it is free, else any free port. */
export async function pickPort(preferred: number | undefined, host = LOCAL_HOST): Promise<number> {
  if (preferred !== undefined && (await isPortFree(preferred, host))) return preferred;
  return freePort(host);
}

/** True when a TCP connection to `host:port` opens within `timeoutMs`. */
export function portAnswers(port: number, host = LOCAL_HOST, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (answered: boolean): void => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}
