import { Hono, type Context } from "hono";
import { tokenCreateBody, tokenCreated, tokenList, tokenParams } from "./api-schemas.js";
import { httpError } from "./errors.js";
import type { RouteDoc } from "./openapi.js";
import type { TokenService } from "./token-store.js";
import { jsonBody } from "./validate.js";

export const tokensDocs: RouteDoc[] = [
  { method: "get", path: "/v1/tokens", summary: "List scoped tokens (admin only; never their secrets)", responses: { 200: { description: "The tokens", schema: tokenList } } },
  {
    method: "post",
    path: "/v1/tokens",
    summary: "Create a scoped token (admin only); its secret is shown in this answer only",
    body: tokenCreateBody,
    responses: { 201: { description: "Created", schema: tokenCreated } },
  },
  {
    method: "delete",
    path: "/v1/tokens/:id",
    summary: "Revoke a scoped token (admin only)",
    params: tokenParams,
    responses: { 204: { description: "Revoked: the token is refused from now on" }, 404: { description: "No such token" } },
  },
];

function idOf(c: Context): string {
  const parsed = tokenParams.safeParse({ id: c.req.param("id") });
  if (parsed.success) return parsed.data.id;
  const message = parsed.error.issues[0]?.message ?? "invalid";
  throw httpError("EDDY_BAD_REQUEST", `invalid token id: ${message}`, [{ path: "id", message }]);
}

/** Scoped tokens (SPEC §6); `route-scopes.ts` keeps every route here to the admin scope. */
export function tokensRoutes(tokens: TokenService): Hono {
  const app = new Hono();

  app.get("/", (c) => c.json({ tokens: tokens.list() }));

  app.post("/", async (c) => {
    const { data } = await jsonBody(c, tokenCreateBody);
    return c.json(await tokens.create(data), 201);
  });

  app.delete("/:id", async (c) => {
    const id = idOf(c);
    if (!(await tokens.revoke(id))) throw httpError("EDDY_NOT_FOUND", `no token with id '${id}'`);
    return c.body(null, 204);
  });

  return app;
}
