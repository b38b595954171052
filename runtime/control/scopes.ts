import { httpError } from "./errors.js";

/**
 * What a token may do (SPEC §6). Each scope includes the ones before it: `read` may GET, `deploy` may
 * also change functions (deploy, rollback, invoke, replay, redrive, pause, resume, secrets), `admin` may
 * do everything, including deleting functions and managing tokens.
 */
export const TOKEN_SCOPES = ["read", "deploy", "admin"] as const;
export type Scope = (typeof TOKEN_SCOPES)[number];

/** A function name (a-z, 0-9, -) where `*` stands for any run of characters and `?` for one. */
export const FUNCTION_PATTERN = /^[a-z0-9*?-]{1,63}$/;

/** Who made the request: the admin token, or a scoped token from the token store. */
export interface Principal {
  id: string;
  name: string;
  scope: Scope;
  /** A deploy token's limit: it may change only functions whose names match this pattern. */
  functions?: string;
}

/** The admin token (EDDY_API_TOKEN or `<dataDir>/token`) as a principal. */
export const ADMIN: Principal = { id: "admin", name: "the admin token", scope: "admin" };

/** What a call needs: a scope and, for a call that changes one function, that function's name. */
export interface Need {
  scope: Scope;
  function?: string;
}

export function scopeRank(scope: Scope): number {
  return TOKEN_SCOPES.indexOf(scope);
}

export function matchesPattern(pattern: string, name: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`).test(name);
}

function describeToken(principal: Principal): string {
  return principal.functions === undefined ? principal.scope : `${principal.scope} for functions matching '${principal.functions}'`;
}

/** Null when the principal may make the call, else why not (the scope it needed and the one it has). */
export function denial(principal: Principal, need: Need): string | null {
  const allowed =
    scopeRank(principal.scope) >= scopeRank(need.scope) &&
    // The pattern limits only what a deploy token changes; reading stays open to it like to any read token.
    (need.scope !== "deploy" || need.function === undefined || principal.functions === undefined || matchesPattern(principal.functions, need.function));
  if (allowed) return null;
  const what = need.function === undefined ? `the ${need.scope} scope` : `the ${need.scope} scope for function '${need.function}'`;
  return `this call needs ${what}; the token has ${describeToken(principal)}`;
}

/** Throws 403 EDDY_FORBIDDEN unless the principal may make the call; 401 when there is no principal at all. */
export function requireAccess(principal: Principal | undefined, need: Need): void {
  // Fail closed: a route reached without the token check (a wiring mistake) must not act.
  if (!principal) throw httpError("EDDY_UNAUTHORIZED", "missing API token");
  const reason = denial(principal, need);
  if (reason) throw httpError("EDDY_FORBIDDEN", reason);
}
