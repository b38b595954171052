import type { StandardSchemaV1 } from "../../../sdk/standard-schema.js";
import type { EddyEvent } from "../../../sdk/types.js";
import { describeValue, safe } from "./format.js";
import { platformError } from "./platform-error.js";

/** A definition's `schema`, checked at load: each present field is a Standard Schema validator. */
export interface LoadedSchema {
  value?: StandardSchemaV1;
  key?: StandardSchemaV1;
}

const MAX_ISSUES = 10;

/** The definition's `schema` as validators, or the problems that keep it from loading. */
export function loadSchema(schema: unknown): { schema?: LoadedSchema; problems: string[] } {
  if (schema === undefined) return { problems: [] };
  if (schema === null || typeof schema !== "object") return { problems: [`schema: expected { value?, key? } of Standard Schema validators, got ${describeValue(schema)}`] };
  const loaded: LoadedSchema = {};
  const problems: string[] = [];
  for (const [field, validator] of Object.entries(schema as Record<string, unknown>)) {
    if (field !== "value" && field !== "key") {
      problems.push(`schema.${field}: unknown field (expected value or key)`);
      continue;
    }
    const standard = safe(() => (validator as StandardSchemaV1)["~standard"], undefined);
    if (standard === undefined || typeof standard.validate !== "function") {
      problems.push(`schema.${field}: expected a Standard Schema validator (zod, valibot, arktype…), got ${describeValue(validator)}`);
      continue;
    }
    loaded[field] = validator as StandardSchemaV1;
  }
  return { schema: loaded, problems };
}

/**
 * Validates a record before its handler sees it: the key, then the value parsed as JSON. A record that
 * fails is rejected with EDDY_SANDBOX_SCHEMA_INVALID, not retried (a retry cannot change the record):
 * it is dead-lettered with the issues in its message. On success the value's output becomes `event.data`.
 */
export async function validateEvent(schema: LoadedSchema, event: EddyEvent): Promise<void> {
  if (schema.key !== undefined) await validate(schema.key, event.key, "key", event);
  if (schema.value === undefined) return;
  let value: unknown;
  try {
    value = event.json();
  } catch (error) {
    throw invalid(event, `value: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  const output = await validate(schema.value, value, "value", event);
  Object.defineProperty(event, "data", { value: output, enumerable: true });
}

async function validate(validator: StandardSchemaV1, input: unknown, field: "key" | "value", event: EddyEvent): Promise<unknown> {
  const result = await validator["~standard"].validate(input);
  if (result.issues === undefined) return result.value;
  const issues = result.issues.slice(0, MAX_ISSUES).map((issue) => `${field}${pathText(issue.path)}: ${issue.message}`);
  if (result.issues.length > MAX_ISSUES) issues.push(`… ${result.issues.length - MAX_ISSUES} more`);
  throw invalid(event, issues.join("; "));
}

function invalid(event: EddyEvent, problems: string): Error {
  return platformError("EDDY_SANDBOX_SCHEMA_INVALID", `schema: ${event.topic}/${event.partition}@${event.offset} does not match: ${problems}`, { retriable: false, type: TypeError });
}

/** `.items[2].sku` from a Standard Schema issue path. */
function pathText(path: StandardSchemaV1.Issue["path"]): string {
  if (path === undefined) return "";
  return path
    .map((segment) => {
      const key = typeof segment === "object" && segment !== null ? segment.key : segment;
      return typeof key === "number" ? `[${key}]` : `.${String(key)}`;
    })
    .join("");
}
