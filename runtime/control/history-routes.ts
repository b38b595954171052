import { Hono } from "hono";
import { deadLettersAnswer, deadLettersQuery, historyAnswer, nameParams, whoamiAnswer } from "./api-schemas.js";
import type { FunctionService } from "./function-service.js";
import { functionOf } from "./functions-routes.js";
import type { RouteDoc } from "./openapi.js";
import { nameOf, queryOf } from "./validate.js";

const DEFAULT_DEAD_LETTERS = 20;

export const historyDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/v1/functions/:name/history",
    summary: "The function's last hour: a sample every 5 s (lag, rates, replicas, p99) and the scaling decisions, oldest first (kept in memory)",
    params: nameParams,
    responses: { 200: { description: "The samples and decisions", schema: historyAnswer }, 404: { description: "No such function" } },
  },
  {
    method: "get",
    path: "/v1/functions/:name/dead-letters",
    summary: "The newest records of the function's dead-letter topic, newest first, with their eddy-dlt-* headers",
    params: nameParams,
    query: deadLettersQuery,
    responses: { 200: { description: "The records (topic null: the function never dead-letters)", schema: deadLettersAnswer }, 404: { description: "No such function" } },
  },
  {
    method: "get",
    path: "/v1/whoami",
    summary: "The scope of the token that asks (the dashboard disables what it may not do)",
    responses: { 200: { description: "The token's name, scope and function pattern", schema: whoamiAnswer } },
  },
];

/** What the dashboard reads beyond the status: a function's history and dead letters, and who is asking. */
export function historyRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.get("/functions/:name/history", (c) => {
    const name = nameOf(c);
    functionOf(service, name);
    return c.json({ name, ...service.history(name) });
  });

  app.get("/functions/:name/dead-letters", async (c) => {
    const name = nameOf(c);
    const { limit } = queryOf(c, deadLettersQuery);
    functionOf(service, name);
    return c.json({ name, ...(await service.deadLetters(name, limit ?? DEFAULT_DEAD_LETTERS)) });
  });

  app.get("/whoami", (c) => {
    const principal = c.get("principal");
    return c.json({ name: principal.name, scope: principal.scope, pattern: principal.functions ?? null });
  });

  return app;
}
