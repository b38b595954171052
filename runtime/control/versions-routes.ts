import { secretNames } from "../secrets/sealed-secrets.js";
import { Hono } from "hono";
import { functionSummary, nameParams, rollbackBody, versionList } from "./api-schemas.js";
import { httpError } from "./errors.js";
import type { FunctionService } from "./function-service.js";
import { describeFunction, functionOf } from "./functions-routes.js";
import type { RouteDoc } from "./openapi.js";
import { jsonBody, nameOf } from "./validate.js";

export const versionsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/v1/functions/:name/versions",
    summary: "A function's stored versions, oldest first",
    params: nameParams,
    responses: { 200: { description: "The versions", schema: versionList }, 404: { description: "No such function" } },
  },
  {
    method: "post",
    path: "/v1/functions/:name/rollback",
    summary: "Make a stored version's code and configuration current again",
    params: nameParams,
    body: rollbackBody,
    responses: { 200: { description: "The function as it now is", schema: functionSummary }, 404: { description: "No such function or version" } },
  },
];

/** Version history and rollback. */
export function versionsRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.get("/:name/versions", (c) => {
    const name = nameOf(c);
    const current = functionOf(service, name).version;
    const versions = service.versions(name).map((r) => ({
      version: r.version,
      current: r.version === current,
      digest: r.digest,
      deployedAt: r.deployedAt,
      handler: r.handler,
      config: r.config,
      secrets: secretNames(r.secrets),
    }));
    return c.json({ name, current, versions });
  });

  app.post("/:name/rollback", async (c) => {
    const name = nameOf(c);
    const { data } = await jsonBody(c, rollbackBody);
    functionOf(service, name);
    const record = await service.rollback(name, data.version);
    if (!record) throw httpError("EDDY_NOT_FOUND", `${name} has no version ${data.version}`, [{ path: "version", message: `no such version, got ${data.version}` }]);
    return c.json(describeFunction(record));
  });

  return app;
}
