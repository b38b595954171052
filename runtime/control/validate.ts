import type { Context } from "hono";
import type { z } from "zod";
import { formatIssues } from "../config/field-problems.js";
import { nameParams } from "./api-schemas.js";
import { httpError } from "./errors.js";

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ""): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const details = formatIssues(parsed.error.issues).map((d) => ({ ...d, path: prefix && d.path === "(body)" ? prefix.slice(0, -1) : `${prefix}${d.path}` }));
  throw httpError("EDDY_BAD_REQUEST", `invalid ${what}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}`, details);
}

/** The request's JSON body, validated; 400 naming every bad field otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<{ data: z.output<S>; raw: unknown }> {
  const text = await c.req.text();
  let raw: unknown;
  try {
    raw = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw httpError("EDDY_BAD_REQUEST", "the body is not valid JSON", [{ path: "(body)", message: "expected a JSON document" }]);
  }
  return { data: parse(schema, raw, "request body"), raw };
}

/** The query string, validated; unknown parameters are rejected like unknown fields. */
export function queryOf<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  return parse(schema, c.req.query(), "query", "query.");
}

/** The `:name` of the route, validated as a function name. */
export function nameOf(c: Context): string {
  return parse(nameParams, { name: c.req.param("name") }, "function name").name;
}
