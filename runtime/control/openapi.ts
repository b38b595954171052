import { z } from "zod";
import { errorResponse } from "./api-schemas.js";

/** One route of the API as the OpenAPI document shows it; the route files list theirs next to their handlers. */
export interface RouteDoc {
  method: "get" | "post" | "put" | "delete";
  /** Hono's form: `/v1/functions/:name`. */
  path: string;
  summary: string;
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  responses: Record<number, { description: string; schema?: z.ZodType; contentType?: string }>;
}

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as JsonSchema;
  return rest;
}

function parameters(where: "path" | "query", schema: z.ZodObject | undefined): JsonSchema[] {
  if (!schema) return [];
  const object = jsonSchema(schema, "input") as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(object.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === "path" || (object.required ?? []).includes(name),
    ...(typeof property.description === "string" ? { description: property.description } : {}),
    schema: property,
  }));
}

const commonErrors: Record<number, string> = {
  400: "Invalid request: `details` names each bad field",
  401: "Missing or wrong bearer token",
  403: "The token's scope does not allow this call: the message names the scope it needs",
  413: "Body larger than 10 MB",
  415: "Content-Type is not application/json",
  500: "Internal error",
};

/** The OpenAPI 3.1 document of the API, built from the same schemas the routes validate with. */
export function openApiDocument(routes: RouteDoc[], version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const error = jsonSchema(errorResponse, "output");
  for (const route of routes) {
    const path = route.path.replace(/:([a-zA-Z]+)/g, "{$1}");
    const authenticated = route.path.startsWith("/v1/");
    const responses: Record<string, JsonSchema> = {};
    for (const [status, response] of Object.entries(route.responses)) {
      const contentType = response.contentType ?? "application/json";
      responses[status] = {
        description: response.description,
        ...(response.schema ? { content: { [contentType]: { schema: jsonSchema(response.schema, "output") } } } : {}),
      };
    }
    if (authenticated) {
      for (const [status, description] of Object.entries(commonErrors)) {
        responses[status] ??= { description, content: { "application/json": { schema: error } } };
      }
    }
    paths[path] ??= {};
    paths[path][route.method] = {
      summary: route.summary,
      operationId: `${route.method}${path.replace(/[{}]/g, "").replace(/[^a-zA-Z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      ...(authenticated ? { security: [{ bearer: [] }] } : { security: [] }),
      parameters: [...parameters("path", route.params), ...parameters("query", route.query)],
      ...(route.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(route.body, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.1.0",
    info: { title: "Eddy control plane", version, description: "Serverless functions on Apache Kafka streams (SPEC §6)." },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
