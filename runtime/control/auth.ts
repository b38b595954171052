import { timingSafeEqual } from "node:crypto";
import type { Context, MiddlewareHandler } from "hono";
import { httpError } from "./errors.js";
import { ADMIN, type Principal } from "./scopes.js";
import type { TokenService } from "./token-store.js";

declare module "hono" {
  interface ContextVariableMap {
    /** Who sent the request, set by `requireToken` for every `/v1` route. */
    principal: Principal;
  }
}

/**
 * The principal of a request's bearer token: the admin token (compared in constant time, so it cannot be
 * guessed byte by byte), else a live scoped token of the store; undefined when it is neither.
 */
export function authenticate(c: Context, adminToken: string, tokens: TokenService | undefined): Principal | undefined {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  const presented = match?.[1]?.trim() ?? "";
  if (presented === "") return undefined;
  const given = Buffer.from(presented);
  const expected = Buffer.from(adminToken);
  if (given.length === expected.length && timingSafeEqual(given, expected)) return ADMIN;
  return tokens?.principal(presented);
}

/** 401 unless the request carries a valid token; the token's principal is then `c.get("principal")`. */
export function requireToken(adminToken: string, tokens?: TokenService): MiddlewareHandler {
  return async (c, next) => {
    const principal = authenticate(c, adminToken, tokens);
    if (!principal) {
      throw httpError("EDDY_UNAUTHORIZED", "missing or wrong API token: send 'Authorization: Bearer <token>' (see <dataDir>/token)");
    }
    c.set("principal", principal);
    await next();
  };
}
