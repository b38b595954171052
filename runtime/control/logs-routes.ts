import { Hono } from "hono";
import { streamSSE } from "hono/streaming";
import { logList, logsQuery, nameParams } from "./api-schemas.js";
import type { FunctionService } from "./function-service.js";
import { functionOf } from "./functions-routes.js";
import type { LogLine } from "./log-book.js";
import type { RouteDoc } from "./openapi.js";
import { nameOf, queryOf } from "./validate.js";

const DEFAULT_LINES = 100;
/** A comment line now and then keeps proxies from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export const logsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/v1/functions/:name/logs",
    summary: "The function's recent log lines and invocation errors, newest last; follow=true streams them as server-sent events",
    params: nameParams,
    query: logsQuery,
    responses: {
      200: { description: "Recent lines (with follow=true: a text/event-stream of `log` events, one JSON line each)", schema: logList },
      404: { description: "No such function" },
    },
  },
];

/** `GET /v1/functions/:name/logs`, once or followed. */
export function logsRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.get("/:name/logs", (c) => {
    const name = nameOf(c);
    const query = queryOf(c, logsQuery);
    functionOf(service, name);
    const recent = service.logs.recent(name, query.limit ?? DEFAULT_LINES);
    if (query.follow !== "true") return c.json({ name, lines: recent });

    return streamSSE(c, async (stream) => {
      // Writes go one after another so that lines keep their order on the wire.
      let writing = Promise.resolve();
      const send = (line: LogLine) => {
        writing = writing.then(() => stream.writeSSE({ event: "log", data: JSON.stringify(line) })).catch(() => {});
      };
      for (const line of recent) send(line);
      const unsubscribe = service.logs.subscribe(name, send);
      const keepAlive = setInterval(() => {
        writing = writing.then(() => stream.write(": keep-alive\n\n")).then(() => {}).catch(() => {});
      }, KEEP_ALIVE_MS);
      await new Promise<void>((resolve) => stream.onAbort(resolve));
      clearInterval(keepAlive);
      unsubscribe();
    });
  });

  return app;
}
