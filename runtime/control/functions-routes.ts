import { Hono } from "hono";
import type { FunctionRecord } from "../config/function-record.js";
import { secretNames } from "../secrets/sealed-secrets.js";
import { deleteQuery, deployBody, functionList, functionStatus, functionSummary, nameParams, scaleHint, stateParams, stateValue } from "./api-schemas.js";
import type { DeployRequest } from "./deployer.js";
import { httpError } from "./errors.js";
import type { FunctionService } from "./function-service.js";
import type { RouteDoc } from "./openapi.js";
import { requireAccess } from "./scopes.js";
import { jsonBody, nameOf, queryOf } from "./validate.js";

/** What every answer about a function shows; the bundle itself stays out. */
export function describeFunction(record: FunctionRecord) {
  return {
    name: record.name,
    version: record.version,
    handler: record.handler,
    deployedAt: record.deployedAt,
    config: record.config,
    secrets: secretNames(record.secrets),
  };
}

/** The deployed function of the route's `:name`, or 404. */
export function functionOf(service: FunctionService, name: string): FunctionRecord {
  const record = service.get(name);
  if (!record) throw httpError("EDDY_NOT_FOUND", `no function named '${name}'`);
  return record;
}

function toDeployRequest(body: { source?: string; filename?: string; files?: Record<string, string>; entry?: string; bundle?: string }, raw: unknown): DeployRequest {
  // The overrides go on as the client wrote them: their parsed form has the defaults filled in, which would hide what the code declares.
  const rawBody = raw as { config?: Record<string, unknown>; env?: Record<string, string>; secrets?: Record<string, string> };
  const extras = { config: rawBody.config, env: rawBody.env, secrets: rawBody.secrets };
  if (body.bundle !== undefined) return { bundle: body.bundle, ...extras };
  if (body.files !== undefined) return { files: body.files, entry: body.entry!, ...extras };
  return { source: body.source!, filename: body.filename, ...extras };
}

export const functionsDocs: RouteDoc[] = [
  {
    method: "post",
    path: "/v1/functions",
    summary: "Deploy or update a function",
    body: deployBody,
    responses: {
      201: { description: "Deployed as a new version", schema: functionSummary },
      200: { description: "Nothing changed: the same version", schema: functionSummary },
      422: { description: "The code does not compile (details name file:line:col) or is not a function definition" },
    },
  },
  { method: "get", path: "/v1/functions", summary: "List deployed functions", responses: { 200: { description: "The functions", schema: functionList } } },
  {
    method: "get",
    path: "/v1/functions/:name",
    summary: "A function's configuration, version and live status",
    params: nameParams,
    responses: { 200: { description: "The function", schema: functionStatus }, 404: { description: "No such function" } },
  },
  {
    method: "get",
    path: "/v1/functions/:name/scale",
    summary: "The replica count Eddy's scaler wants, for KEDA's metrics-api scaler (valueLocation: desiredReplicas)",
    params: nameParams,
    responses: { 200: { description: "The wanted count and its inputs", schema: scaleHint }, 404: { description: "No such function" } },
  },
  {
    method: "get",
    path: "/v1/functions/:name/state/:key",
    summary: "The current ctx.state of one key, read from the function's changelog (works at zero replicas)",
    params: stateParams,
    responses: {
      200: { description: "The key's state", schema: stateValue },
      404: { description: "No such function, or the key has no state" },
      409: { description: "The function keeps no state (no `state` in its definition)" },
    },
  },
  {
    method: "delete",
    path: "/v1/functions/:name",
    summary: "Undeploy a function (its consumer group stays unless deleteGroup=true)",
    params: nameParams,
    query: deleteQuery,
    responses: { 204: { description: "Undeployed" }, 404: { description: "No such function" } },
  },
];

/** Deploy, list, inspect and delete functions. */
export function functionsRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.post("/", async (c) => {
    const { data, raw } = await jsonBody(c, deployBody);
    // A deploy token limited to a pattern learns whether it may deploy only once the code names the function.
    const authorize = (name: string) => requireAccess(c.get("principal"), { scope: "deploy", function: name });
    const { record, changed } = await service.deploy({ ...toDeployRequest(data, raw), authorize });
    return c.json(describeFunction(record), changed ? 201 : 200);
  });

  app.get("/", (c) => c.json({ functions: service.list().map(describeFunction) }));

  app.get("/:name", async (c) => {
    const name = nameOf(c);
    functionOf(service, name);
    return c.json(await service.status(name));
  });

  app.get("/:name/scale", async (c) => {
    const name = nameOf(c);
    functionOf(service, name);
    return c.json(await service.scale(name));
  });

  app.get("/:name/state/:key", async (c) => {
    const name = nameOf(c);
    functionOf(service, name);
    return c.json(await service.state(name, c.req.param("key")));
  });

  app.delete("/:name", async (c) => {
    const name = nameOf(c);
    const { deleteGroup } = queryOf(c, deleteQuery);
    functionOf(service, name);
    await service.remove(name, { deleteGroup: deleteGroup === "true" });
    return c.body(null, 204);
  });

  return app;
}
