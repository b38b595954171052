import { Hono } from "hono";
import { secretNames } from "../secrets/sealed-secrets.js";
import { nameParams, secretBody, secretList, secretName, secretParams, functionSummary } from "./api-schemas.js";
import { httpError } from "./errors.js";
import type { FunctionService } from "./function-service.js";
import { describeFunction, functionOf } from "./functions-routes.js";
import type { RouteDoc } from "./openapi.js";
import { jsonBody, nameOf } from "./validate.js";

const notFound = { 404: { description: "No such function (or secret)" } };

export const secretsDocs: RouteDoc[] = [
  {
    method: "get",
    path: "/v1/functions/:name/secrets",
    summary: "The names of the function's secrets (never their values)",
    params: nameParams,
    responses: { 200: { description: "Secret names", schema: secretList }, ...notFound },
  },
  {
    method: "put",
    path: "/v1/functions/:name/secrets/:secret",
    summary: "Set one secret: a new version with the same code and configuration",
    params: secretParams,
    body: secretBody,
    responses: { 200: { description: "The function as it now is (secret names only)", schema: functionSummary }, ...notFound },
  },
  {
    method: "delete",
    path: "/v1/functions/:name/secrets/:secret",
    summary: "Remove one secret: a new version with the same code and configuration",
    params: secretParams,
    responses: { 200: { description: "The function as it now is", schema: functionSummary }, ...notFound },
  },
];

/** The secret's name from the path, validated like a variable name. */
function secretOf(c: { req: { param(name: string): string | undefined } }): string {
  const parsed = secretName.safeParse(c.req.param("secret"));
  if (!parsed.success) throw httpError("EDDY_BAD_REQUEST", `invalid secret name: ${parsed.error.issues[0]?.message}`, [{ path: "secret", message: parsed.error.issues[0]?.message ?? "invalid" }]);
  return parsed.data;
}

/** Write-only secrets (SPEC §6): names can be listed, values set and removed, never read. */
export function secretsRoutes(service: FunctionService): Hono {
  const app = new Hono();

  app.get("/:name/secrets", (c) => {
    const record = functionOf(service, nameOf(c));
    return c.json({ name: record.name, version: record.version, secrets: secretNames(record.secrets) });
  });

  app.put("/:name/secrets/:secret", async (c) => {
    const name = nameOf(c);
    const secret = secretOf(c);
    const { data } = await jsonBody(c, secretBody);
    functionOf(service, name);
    const { record } = await service.changeSecrets(name, { set: { [secret]: data.value } });
    return c.json(describeFunction(record));
  });

  app.delete("/:name/secrets/:secret", async (c) => {
    const name = nameOf(c);
    const secret = secretOf(c);
    const record = functionOf(service, name);
    if (!secretNames(record.secrets).includes(secret)) {
      throw httpError("EDDY_NOT_FOUND", `${name} has no secret named ${secret}`, [{ path: "secret", message: `no such secret, got ${secret}` }]);
    }
    const result = await service.changeSecrets(name, { remove: [secret] });
    return c.json(describeFunction(result.record));
  });

  return app;
}
