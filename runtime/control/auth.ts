import { timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { httpError } from "./errors.js";

/** Bearer-token check for `/v1`, compared in constant time so the token cannot be guessed byte by byte. */
export function requireToken(token: string): MiddlewareHandler {
  const expected = Buffer.from(token);
  return async (c, next) => {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    const given = Buffer.from(match?.[1]?.trim() ?? "");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw httpError("EDDY_UNAUTHORIZED", "missing or wrong API token: send 'Authorization: Bearer <token>' (see <dataDir>/token)");
    }
    await next();
  };
}
