import type { CloudEvent } from "./types.js";

// The SDK type-checks without DOM or Node typings; at run time this is the global (the isolate's
// own or the platform's).
declare function atob(data: string): string;

const STRUCTURED = "application/cloudevents+json";
const PREFIX = "ce_";
const REQUIRED = ["specversion", "id", "source", "type"] as const;
const OPTIONAL = ["subject", "time", "datacontenttype", "dataschema"] as const;
const NOT_EXTENSIONS = new Set<string>([...REQUIRED, ...OPTIONAL, "data", "data_base64"]);
const EXTENSION_NAME = /^[a-z0-9]{1,20}$/;

/** The parts of a record the CloudEvents Kafka protocol binding reads. */
export interface CloudEventSource {
  headers: Readonly<Record<string, string>>;
  value: Uint8Array | null;
  /** The value as UTF-8 text (cached by the event). */
  text(): string;
}

/**
 * Reads a record as a CloudEvent (CloudEvents 1.0, Kafka protocol binding): structured mode when
 * the content-type header is `application/cloudevents+json` (the value is the event as JSON),
 * binary mode when the `ce_specversion`, `ce_id`, `ce_source` and `ce_type` headers are present
 * (the value is the data; content-type is its datacontenttype). Undefined for any other record,
 * and for one that claims to be a CloudEvent but lacks a required attribute.
 *
 * @example
 * ```ts
 * const ce = readCloudEvent({ headers: { ce_specversion: "1.0", ce_id: "1", ce_source: "/x", ce_type: "t" }, value: null, text: () => "" });
 * ce?.type; // "t"
 * ```
 */
export function readCloudEvent(record: CloudEventSource): CloudEvent | undefined {
  const headers = lowerCased(record.headers);
  const contentType = headers["content-type"];
  if (contentType !== undefined && mediaType(contentType) === STRUCTURED) return structured(record);
  if (headers[`${PREFIX}specversion`] !== undefined) return binary(record, headers, contentType);
  return undefined;
}

function binary(record: CloudEventSource, headers: Record<string, string>, contentType: string | undefined): CloudEvent | undefined {
  const attributes: Record<string, string> = {};
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(PREFIX)) continue;
    const attribute = name.slice(PREFIX.length);
    if (NOT_EXTENSIONS.has(attribute)) attributes[attribute] = value;
    else if (EXTENSION_NAME.test(attribute)) extensions[attribute] = value;
  }
  if (!REQUIRED.every((name) => typeof attributes[name] === "string" && attributes[name].length > 0)) return undefined;
  if (contentType !== undefined) attributes.datacontenttype = contentType;
  return build(attributes, extensions, () => binaryData(record, contentType));
}

function binaryData(record: CloudEventSource, contentType: string | undefined): unknown {
  if (record.value === null) return undefined;
  const type = contentType === undefined ? undefined : mediaType(contentType);
  if (type !== undefined && isJson(type)) {
    try {
      return JSON.parse(record.text()) as unknown;
    } catch {
      return record.value;
    }
  }
  if (type !== undefined && type.startsWith("text/")) return record.text();
  return record.value;
}

function structured(record: CloudEventSource): CloudEvent | undefined {
  let event: unknown;
  try {
    event = JSON.parse(record.text());
  } catch {
    return undefined;
  }
  if (event === null || typeof event !== "object" || Array.isArray(event)) return undefined;
  const fields = event as Record<string, unknown>;
  const attributes: Record<string, string> = {};
  const extensions: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (name === "data" || name === "data_base64") continue;
    if (NOT_EXTENSIONS.has(name)) {
      if (typeof value === "string") attributes[name] = value;
    } else if (EXTENSION_NAME.test(name) && (typeof value === "string" || typeof value === "number" || typeof value === "boolean")) {
      extensions[name] = String(value);
    }
  }
  if (!REQUIRED.every((name) => typeof attributes[name] === "string" && attributes[name].length > 0)) return undefined;
  return build(attributes, extensions, () => {
    if ("data" in fields) return fields.data;
    if (typeof fields.data_base64 === "string") return base64Bytes(fields.data_base64);
    return undefined;
  });
}

function build(attributes: Record<string, string>, extensions: Record<string, string>, data: () => unknown): CloudEvent {
  const event: Record<string, unknown> = { specversion: attributes.specversion, id: attributes.id, source: attributes.source, type: attributes.type };
  for (const name of OPTIONAL) if (attributes[name] !== undefined) event[name] = attributes[name];
  const value = data();
  if (value !== undefined) event.data = value;
  if (Object.keys(extensions).length > 0) event.extensions = Object.freeze(extensions);
  return Object.freeze(event) as unknown as CloudEvent;
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === "string") out[name.toLowerCase()] = value;
  return out;
}

function mediaType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}

function isJson(type: string): boolean {
  return type === "application/json" || type === "text/json" || type.endsWith("+json");
}

function base64Bytes(text: string): Uint8Array | undefined {
  try {
    const binaryText = atob(text);
    const bytes = new Uint8Array(binaryText.length);
    for (let i = 0; i < binaryText.length; i++) bytes[i] = binaryText.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}
