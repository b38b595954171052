import type { Context } from "hono";
import type { z } from "zod";
import { formatIssues } from "../config/field-problems.js";
import { nameParams } from "./api-schemas.js";
import { httpError } from "./errors.js";
import { fieldOf, MAX_JSON_DEPTH, tooDeepPath } from "./json-limits.js";

/**
 * Problems named in one answer. A 9 MB body of 780,000 bad fields was answered with all of them, in 80 MB
 * of JSON; the first hundred tell the client enough, and the count says how many there were.
 */
const MAX_PROBLEMS = 100;

function parse<S extends z.ZodType>(schema: S, input: unknown, what: string, prefix = ""): z.output<S> {
  const parsed = schema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const { issues } = parsed.error;
  const details = formatIssues(issues.slice(0, MAX_PROBLEMS)).map((d) => ({ ...d, path: prefix && d.path === "(body)" ? prefix.slice(0, -1) : `${prefix}${d.path}` }));
  const more = issues.length > MAX_PROBLEMS ? ` (${issues.length} problems; the first ${MAX_PROBLEMS} are named)` : "";
  throw httpError("EDDY_BAD_REQUEST", `invalid ${what}: ${details.map((d) => `${d.path}: ${d.message}`).join("; ")}${more}`, details);
}

/** The request's JSON body, validated; 400 naming every bad field otherwise. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<{ data: z.output<S>; raw: unknown }> {
  const text = await c.req.text();
  // Checked on the text, before JSON.parse spends seconds on 10 MB of brackets (json-limits.ts says why).
  const deep = tooDeepPath(text);
  if (deep) {
    const problem = { path: fieldOf(schema, deep), message: `expected JSON nested at most ${MAX_JSON_DEPTH} levels deep` };
    throw httpError("EDDY_BAD_REQUEST", `invalid request body: ${problem.path}: ${problem.message}`, [problem]);
  }
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
