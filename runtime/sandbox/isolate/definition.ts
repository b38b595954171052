import type { BatchResult } from "../../../sdk/define-function.js";
import type { Context, EddyEvent } from "../../../sdk/types.js";
import type { FunctionInfo } from "../types.js";
import { loadSchema, type LoadedSchema } from "./event-schema.js";
import { describeValue, formatError } from "./format.js";

export type LoadedFunction = (
  | { handler: "handle"; call: (event: EddyEvent, ctx: Context) => unknown }
  | { handler: "handleBatch"; call: (events: EddyEvent[], ctx: Context) => unknown }
) & { schema?: LoadedSchema };

export type LoadOutcome = { ok: true; fn: LoadedFunction; info: FunctionInfo } | { ok: false; problems: string[] };

// Code, not configuration: kept out of the JSON copy of the definition's other fields.
const NOT_CONFIG = ["handle", "handleBatch", "schema"];

/**
 * Checks the bundle's module namespace for a default export shaped like a definition, collecting
 * every problem. Validates only what the sandbox needs; the configuration's values are checked at
 * deploy.
 */
export function loadDefinition(moduleNamespace: unknown): LoadOutcome {
  try {
    return check(moduleNamespace);
  } catch (error) {
    return { ok: false, problems: [`reading the default export threw: ${formatError(error)}`] };
  }
}

function check(moduleNamespace: unknown): LoadOutcome {
  if (moduleNamespace === null || typeof moduleNamespace !== "object") {
    return { ok: false, problems: ["the bundle did not define its module (was it built by bundleFunction?)"] };
  }
  const definition = (moduleNamespace as { default?: unknown }).default;
  if (definition === undefined) {
    return { ok: false, problems: ["the module has no default export: export default defineFunction({ name, topics, handle })"] };
  }
  if (definition === null || typeof definition !== "object") {
    return { ok: false, problems: [`default export: expected defineFunction({ ... }), got ${describeValue(definition)}`] };
  }
  const d = definition as Record<string, unknown>;
  const problems: string[] = [];
  const { name, topics, handle, handleBatch } = d;
  if (typeof name !== "string" || name.length === 0) problems.push(`name: expected a non-empty string, got ${describeValue(name)}`);
  if (!Array.isArray(topics) || topics.length === 0 || !topics.every((t) => typeof t === "string" && t.length > 0)) {
    problems.push(`topics: expected a non-empty array of topic names, got ${describeValue(topics)}`);
  }
  if (handle !== undefined && typeof handle !== "function") problems.push(`handle: expected a function, got ${describeValue(handle)}`);
  if (handleBatch !== undefined && typeof handleBatch !== "function") {
    problems.push(`handleBatch: expected a function, got ${describeValue(handleBatch)}`);
  }
  if (typeof handle === "function" && typeof handleBatch === "function") {
    problems.push("handle, handleBatch: define one handler, not both");
  }
  if (handle === undefined && handleBatch === undefined) {
    problems.push("handle: expected a function handle(event, ctx) or handleBatch(events, ctx), found neither");
  }
  const schema = loadSchema(d.schema);
  problems.push(...schema.problems);
  let config: Record<string, unknown> = {};
  try {
    const rest: Record<string, unknown> = {};
    for (const key of Object.keys(d)) if (key !== "name" && key !== "topics" && !NOT_CONFIG.includes(key)) rest[key] = d[key];
    config = JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
  } catch (error) {
    problems.push(`configuration: expected JSON-like values: ${error instanceof Error ? error.message : describeValue(error)}`);
  }
  if (problems.length > 0) return { ok: false, problems };

  const info: FunctionInfo = {
    name: name as string,
    topics: [...(topics as string[])],
    handler: typeof handle === "function" ? "handle" : "handleBatch",
    config,
  };
  // Bound to the definition, so `this` inside a method handler is the definition, as written.
  const fn: LoadedFunction =
    info.handler === "handle"
      ? { handler: "handle", call: (handle as (e: EddyEvent, c: Context) => unknown).bind(definition) }
      : { handler: "handleBatch", call: (handleBatch as (e: EddyEvent[], c: Context) => BatchResult | void).bind(definition) };
  if (schema.schema !== undefined) fn.schema = schema.schema;
  return { ok: true, fn, info };
}
