/**
 * The nesting bound of request bodies. JSON this deep is never a real request, and deeper values break
 * whatever walks them recursively later: `JSON.stringify` of an invoke event's value threw a RangeError
 * (a 500) at a few thousand levels, and `JSON.parse` of 10 MB of `[` blocks the event loop for seconds.
 * So the text is scanned before it is parsed, and a body nested too deep is a 400 naming its field.
 */
import type { z } from "zod";

/**
 * How deep a request body may nest, counting the body itself: `{"events":[{"value":…}]}` leaves an
 * invoke value 61 levels. Far above any real request (a deploy's config nests 4), far below the
 * depth at which V8's recursive JSON.stringify runs out of stack (several thousand).
 */
export const MAX_JSON_DEPTH = 64;

export type JsonPath = (string | number)[];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

interface Frame {
  array: boolean;
  /** The key or index of the value being read inside this container. */
  at: string | number;
  /** In an object: whether the next string is a key. */
  expectKey: boolean;
}

/**
 * The path of the first object or array of `text` that sits deeper than `maxDepth`, or null. One pass over
 * the characters with no recursion and no parsing, so any input is safe; text that is not JSON is scanned
 * as far as its brackets go and left for JSON.parse to reject.
 */
export function tooDeepPath(text: string, maxDepth = MAX_JSON_DEPTH): JsonPath | null {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === QUOTE) {
      const start = i;
      for (i++; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c === BACKSLASH) i++;
        else if (c === QUOTE) break;
      }
      const top = stack.at(-1);
      if (top && !top.array && top.expectKey) {
        top.at = decodeKey(text.slice(start, i + 1));
        top.expectKey = false;
      }
    } else if (ch === OPEN_OBJECT || ch === OPEN_ARRAY) {
      if (stack.length >= maxDepth) return stack.map((frame) => frame.at);
      stack.push(ch === OPEN_ARRAY ? { array: true, at: 0, expectKey: false } : { array: false, at: "", expectKey: true });
    } else if (ch === CLOSE_OBJECT || ch === CLOSE_ARRAY) {
      stack.pop();
    } else if (ch === COMMA) {
      const top = stack.at(-1);
      if (top?.array) top.at = (top.at as number) + 1;
      else if (top) top.expectKey = true;
    } else if (ch === COLON) {
      const top = stack.at(-1);
      if (top && !top.array) top.expectKey = false;
    }
  }
  return null;
}

function decodeKey(quoted: string): string {
  try {
    return JSON.parse(quoted) as string;
  } catch {
    return quoted.slice(1, -1);
  }
}

/** The zod definition fields this walk reads (zod 4 exposes them as `_zod.def`). */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  options?: z.ZodType[];
  items?: z.ZodType[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema of `segment` inside `schema`; null where the schema describes no such child. */
function childSchema(schema: z.ZodType, segment: string | number): z.ZodType | null | "unknown-key" {
  const def = defOf(schema);
  switch (def.type) {
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "nonoptional":
    case "readonly":
    case "catch":
      return childSchema(def.innerType!, segment);
    case "pipe":
      return childSchema(def.in!, segment);
    case "object":
      return typeof segment === "string" ? (def.shape![segment] ?? "unknown-key") : null;
    case "record":
      return typeof segment === "string" ? def.valueType! : null;
    case "array":
      return typeof segment === "number" ? def.element! : null;
    case "tuple":
      return typeof segment === "number" ? (def.items![segment] ?? null) : null;
    case "union":
      for (const option of def.options!) {
        const child = childSchema(option, segment);
        if (child !== null && child !== "unknown-key") return child;
      }
      return null;
    default:
      return null;
  }
}

/**
 * The field a too-deep path belongs to, as `schema` names fields: the path is followed while the schema
 * describes it, so `events.0.value.0.0…` is `events.0.value` (a value that takes any JSON) and a deep
 * list given for `source` is `source`. An unknown field is named itself. "(body)" when the body itself is.
 */
export function fieldOf(schema: z.ZodType, path: JsonPath): string {
  let current: z.ZodType = schema;
  for (let i = 0; i < path.length; i++) {
    const child = childSchema(current, path[i]!);
    if (child === "unknown-key") return path.slice(0, i + 1).join(".");
    if (child === null) return i === 0 ? "(body)" : path.slice(0, i).join(".");
    current = child;
  }
  return path.length === 0 ? "(body)" : path.join(".");
}
