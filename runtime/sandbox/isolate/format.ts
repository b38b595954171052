// Turns whatever function code logs or throws into text without ever throwing: values may be
// Proxies, have throwing getters, be cyclic or huge.

const MAX_LOG_CHARS = 16_384;
const MAX_DEPTH = 3;
const MAX_ENTRIES = 50;

/** console.log-style formatting, with %s %d %i %f %j %o %O %% in a leading string. */
export function formatLogArgs(args: readonly unknown[]): string {
  const parts: string[] = [];
  let rest = args;
  const first = args[0];
  if (typeof first === "string" && first.includes("%")) {
    let index = 1;
    const formatted = first.replace(/%[sdifjoO%]/g, (token) => {
      if (token === "%%") return "%";
      if (index >= args.length) return token;
      const value = args[index++];
      switch (token) {
        case "%s":
          return typeof value === "string" ? value : inspect(value);
        case "%d":
        case "%i":
          return safe(() => String(token === "%i" ? Math.trunc(Number(value)) : Number(value)), "NaN");
        case "%f":
          return safe(() => String(Number(value)), "NaN");
        default:
          return inspect(value);
      }
    });
    parts.push(formatted);
    rest = args.slice(index);
  }
  for (const value of rest) parts.push(typeof value === "string" ? value : inspect(value));
  const text = parts.join(" ");
  return text.length > MAX_LOG_CHARS ? `${text.slice(0, MAX_LOG_CHARS)}… (${text.length - MAX_LOG_CHARS} more characters)` : text;
}

/** A short description of a value for error messages ("got …"). */
export function describeValue(value: unknown): string {
  const text = inspect(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** Readable text for any value. */
export function inspect(value: unknown): string {
  return safe(() => inspectValue(value, 0, []), "[unreadable value]");
}

function inspectValue(value: unknown, depth: number, seen: unknown[]): string {
  switch (typeof value) {
    case "string":
      return depth === 0 ? value : JSON.stringify(value);
    case "number":
    case "boolean":
    case "undefined":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "symbol":
      return value.toString();
    case "function":
      return `[Function: ${safe(() => (value as { name?: unknown }).name, "") || "anonymous"}]`;
  }
  if (value === null) return "null";
  const object = value as object;
  if (seen.includes(object)) return "[Circular]";
  if (safe(() => object instanceof Error, false)) return formatError(object);
  if (object instanceof Uint8Array) {
    const shown = Array.from(object.subarray(0, MAX_ENTRIES)).join(", ");
    return `Uint8Array(${object.length}) [${shown}${object.length > MAX_ENTRIES ? ", …" : ""}]`;
  }
  if (object instanceof Date) return safe(() => object.toISOString(), "Invalid Date");
  const tag = safe(() => Object.prototype.toString.call(object), "");
  if (tag === "[object URL]" || tag === "[object URLSearchParams]") return `${tag.slice(8, -1)} ${JSON.stringify(String(object))}`;
  if (depth >= MAX_DEPTH) return Array.isArray(object) ? "[Array]" : "[Object]";
  seen.push(object);
  try {
    if (Array.isArray(object)) {
      const items = object.slice(0, MAX_ENTRIES).map((item) => safe(() => inspectValue(item, depth + 1, seen), "[unreadable]"));
      if (object.length > MAX_ENTRIES) items.push(`… ${object.length - MAX_ENTRIES} more`);
      return `[${items.join(", ")}]`;
    }
    if (object instanceof Map || object instanceof Set) {
      return `${object instanceof Map ? "Map" : "Set"}(${object.size})`;
    }
    const keys = Object.keys(object);
    const entries = keys.slice(0, MAX_ENTRIES).map((key) => {
      const item = safe(() => inspectValue((object as Record<string, unknown>)[key], depth + 1, seen), "[unreadable]");
      return `${/^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key)}: ${item}`;
    });
    if (keys.length > MAX_ENTRIES) entries.push(`… ${keys.length - MAX_ENTRIES} more`);
    return entries.length === 0 ? "{}" : `{ ${entries.join(", ")} }`;
  } finally {
    seen.pop();
  }
}

/** An Error's stack (which starts with name: message), or name: message. */
export function formatError(error: unknown): string {
  const stack = safe(() => (error as { stack?: unknown }).stack, undefined);
  if (typeof stack === "string" && stack.length > 0) return stack;
  const name = safe(() => (error as { name?: unknown }).name, undefined);
  const message = safe(() => (error as { message?: unknown }).message, undefined);
  return `${typeof name === "string" ? name : "Error"}: ${typeof message === "string" ? message : ""}`;
}

export function safe<T, F>(read: () => T, fallback: F): T | F {
  try {
    return read();
  } catch {
    return fallback;
  }
}
