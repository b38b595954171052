import type { EmitOptions } from "../../../sdk/types.js";
import type { WireEmit } from "../wire.js";
import { describeValue } from "./format.js";

// Kafka's legal topic names.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const resolved = Promise.resolve();

/**
 * The emits of one record's handling (or of one handleBatch call). `emit` validates and encodes
 * synchronously and throws synchronously, so an emit that is not awaited still fails its record
 * instead of becoming an unhandled rejection.
 */
export class EmitScope {
  readonly emits: WireEmit[] = [];
  readonly recordIndex: number;
  readonly #encoder: { encode(text: string): Uint8Array };
  #open = true;

  constructor(recordIndex: number, encoder: { encode(text: string): Uint8Array }) {
    this.recordIndex = recordIndex;
    this.#encoder = encoder;
  }

  readonly emit = (topic: unknown, value: unknown, options?: unknown): Promise<void> => {
    if (!this.#open) {
      throw new Error("ctx.emit was called after the handler finished; await every ctx.emit before returning");
    }
    this.emits.push(this.#encode(topic, value, options));
    return resolved;
  };

  close(): void {
    this.#open = false;
  }

  #encode(topic: unknown, value: unknown, options: unknown): WireEmit {
    if (typeof topic !== "string" || !TOPIC.test(topic)) {
      throw new TypeError(`ctx.emit: topic: expected a Kafka topic name (1 to 249 of [A-Za-z0-9._-]), got ${describeValue(topic)}`);
    }
    if (options !== undefined && options !== null && typeof options !== "object") {
      throw new TypeError(`ctx.emit: options: expected an object, got ${describeValue(options)}`);
    }
    const { key, headers } = (options ?? {}) as EmitOptions;
    if (key !== undefined && key !== null && typeof key !== "string") {
      throw new TypeError(`ctx.emit: options.key: expected a string or null, got ${describeValue(key)}`);
    }
    return { topic, key: key ?? null, value: this.#encodeValue(value), headers: copyHeaders(headers), recordIndex: this.recordIndex };
  }

  #encodeValue(value: unknown): Uint8Array | null {
    if (value === null) return null;
    if (value === undefined) throw new TypeError("ctx.emit: value: expected a value, got undefined (use null for a tombstone)");
    // Copies, never views: the function may reuse its buffer, and a view would carry its whole backing buffer across.
    if (value instanceof Uint8Array) return new Uint8Array(value);
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    if (typeof value === "string") return this.#encoder.encode(value);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw new TypeError(`ctx.emit: value: cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (json === undefined) throw new TypeError(`ctx.emit: value: cannot be encoded as JSON, got ${describeValue(value)}`);
    return this.#encoder.encode(json);
  }
}

function copyHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (headers === undefined || headers === null) return out;
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw new TypeError(`ctx.emit: options.headers: expected an object of strings, got ${describeValue(headers)}`);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw new TypeError(`ctx.emit: options.headers.${name}: expected a string, got ${describeValue(value)}`);
    }
    out[name] = value;
  }
  return out;
}
