import type { MiddlewareHandler } from "hono";
import { requireAccess, type Need, type Scope } from "./scopes.js";

/** What a route needs; `perFunction` means the `:name` of the path is checked against a deploy token's pattern. */
interface RouteNeed {
  scope: Scope;
  perFunction?: boolean;
}

const read: RouteNeed = { scope: "read" };
const deployFunction: RouteNeed = { scope: "deploy", perFunction: true };
const admin: RouteNeed = { scope: "admin" };

/**
 * The scope every `/v1` route needs, in one table so the policy can be reviewed at a glance (a test checks
 * that it names exactly the documented routes). A route missing here needs `read` for GET and `admin` for
 * anything else: a new route that changes something is closed to scoped tokens until it is listed.
 */
export const routeScopes: Record<string, RouteNeed> = {
  "get /v1/openapi.json": read,
  "get /v1/functions": read,
  // The function's name is known only once its code is inspected: the deployer asks `authorize(name)` then.
  "post /v1/functions": { scope: "deploy" },
  "get /v1/functions/:name": read,
  "get /v1/functions/:name/scale": read,
  "get /v1/functions/:name/state/:key": read,
  "delete /v1/functions/:name": admin,
  "get /v1/functions/:name/versions": read,
  "post /v1/functions/:name/rollback": deployFunction,
  "post /v1/functions/:name/invoke": deployFunction,
  "post /v1/functions/:name/replay": deployFunction,
  "post /v1/functions/:name/redrive": deployFunction,
  "post /v1/functions/:name/pause": deployFunction,
  "post /v1/functions/:name/dead-letter": deployFunction,
  "post /v1/functions/:name/resume": deployFunction,
  "get /v1/functions/:name/logs": read,
  "get /v1/functions/:name/history": read,
  "get /v1/functions/:name/dead-letters": read,
  "get /v1/whoami": read,
  "get /v1/functions/:name/secrets": read,
  // Setting or removing a secret makes a new version, as a deploy with `secrets` does.
  "put /v1/functions/:name/secrets/:secret": deployFunction,
  "delete /v1/functions/:name/secrets/:secret": deployFunction,
  "get /v1/tokens": admin,
  "post /v1/tokens": admin,
  "delete /v1/tokens/:id": admin,
};

const compiled = Object.entries(routeScopes).map(([route, need]) => {
  const [method, path] = route.split(" ") as [string, string];
  return { method, segments: path.split("/"), need };
});

/** The need of a request, from its method and path (`:x` segments match any one segment). */
export function needOf(method: string, path: string): Need {
  const m = method.toLowerCase() === "head" ? "get" : method.toLowerCase();
  const segments = path.replace(/\/+$/, "").split("/");
  for (const route of compiled) {
    const params = route.method === m ? match(route.segments, segments) : null;
    if (!params) continue;
    if (!route.need.perFunction || params.name === undefined) return { scope: route.need.scope };
    return { scope: route.need.scope, function: decodeSegment(params.name) };
  }
  return { scope: m === "get" ? "read" : "admin" };
}

function match(pattern: string[], segments: string[]): Record<string, string> | null {
  if (pattern.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i]!;
    if (part.startsWith(":") && segment !== "") params[part.slice(1)] = segment;
    else if (part !== segment) return null;
  }
  return params;
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** 403 unless the request's token (set by `requireToken`) has the scope its route needs. */
export function requireScope(): MiddlewareHandler {
  return async (c, next) => {
    requireAccess(c.get("principal"), needOf(c.req.method, c.req.path));
    await next();
  };
}
