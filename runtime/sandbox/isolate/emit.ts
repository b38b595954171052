import type { EmitOptions } from "../../../sdk/types.js";
import type { IsolateLimits, ReservedTopics, WireEmit } from "../wire.js";
import { describeValue } from "./format.js";
import { platformError } from "./platform-error.js";
import { reservedTopicProblem } from "./reserved-topics.js";
import { utf8Length } from "./text-codec.js";

/**
 * A ctx.emit call that can never succeed for this record (a bad topic name, key, value or headers):
 * a TypeError that is not retried, so the record is dead-lettered at once instead of retried forever.
 */
const invalidEmit = (message: string) => platformError("EDDY_SANDBOX_INVALID_EMIT", message, { retriable: false, type: TypeError });

// Kafka's legal topic names.
const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const resolved = Promise.resolve();

/** What one invocation has emitted so far, across its records: the per-invocation limits count here. */
export interface EmitBudget {
  bytes: number;
  count: number;
}

export interface EmitRules {
  limits: IsolateLimits;
  reserved: ReservedTopics;
  encoder: { encode(text: string): Uint8Array };
}

/**
 * The emits of one record's handling (or of one handleBatch call). `emit` validates and encodes
 * synchronously and throws synchronously, so an emit that is not awaited still fails its record
 * instead of becoming an unhandled rejection. The first error an emit threw is kept in `failure`:
 * the record fails with it even if the handler caught it, since its output would be incomplete.
 */
export class EmitScope {
  readonly emits: WireEmit[] = [];
  readonly recordIndex: number;
  /** Set when an emit threw; `failure` is what it threw. */
  failed = false;
  failure: unknown = undefined;
  readonly #budget: EmitBudget;
  readonly #rules: EmitRules;
  #open = true;

  constructor(recordIndex: number, budget: EmitBudget, rules: EmitRules) {
    this.recordIndex = recordIndex;
    this.#budget = budget;
    this.#rules = rules;
  }

  readonly emit = (topic: unknown, value: unknown, options?: unknown): Promise<void> => {
    if (!this.#open) {
      throw new Error("ctx.emit was called after the handler finished; await every ctx.emit before returning");
    }
    try {
      const emit = this.#encode(topic, value, options);
      this.#charge(emit);
      this.emits.push(emit);
    } catch (error) {
      if (!this.failed) {
        this.failed = true;
        this.failure = error;
      }
      throw error;
    }
    return resolved;
  };

  close(): void {
    this.#open = false;
  }

  #charge(emit: WireEmit): void {
    const { limits } = this.#rules;
    const bytes = emittedBytes(emit);
    if (bytes > limits.maxEmitRecordBytes) {
      throw platformError(
        "EDDY_SANDBOX_EMIT_TOO_LARGE",
        `ctx.emit: the record for topic "${emit.topic}" is ${bytes} bytes (value, key and headers); the limit is ${limits.maxEmitRecordBytes} bytes per record (maxEmitRecordBytes)`,
        { retriable: false, type: RangeError },
      );
    }
    const budget = this.#budget;
    if (budget.count + 1 > limits.maxEmitsPerInvocation) {
      throw platformError(
        "EDDY_SANDBOX_EMIT_LIMIT",
        `ctx.emit: this invocation already emitted ${budget.count} records; the limit is ${limits.maxEmitsPerInvocation} per invocation (maxEmitsPerInvocation)`,
        { retriable: true, type: RangeError },
      );
    }
    if (budget.bytes + bytes > limits.maxEmitBytesPerInvocation) {
      throw platformError(
        "EDDY_SANDBOX_EMIT_LIMIT",
        `ctx.emit: this invocation would emit ${budget.bytes + bytes} bytes; the limit is ${limits.maxEmitBytesPerInvocation} bytes per invocation (maxEmitBytesPerInvocation)`,
        { retriable: true, type: RangeError },
      );
    }
    budget.count += 1;
    budget.bytes += bytes;
  }

  #encode(topic: unknown, value: unknown, options: unknown): WireEmit {
    if (typeof topic !== "string" || !TOPIC.test(topic)) {
      throw invalidEmit(`ctx.emit: topic: expected a Kafka topic name (1 to 249 of [A-Za-z0-9._-]), got ${describeValue(topic)}`);
    }
    const reserved = reservedTopicProblem(topic, this.#rules.reserved);
    if (reserved !== undefined) throw platformError("EDDY_SANDBOX_RESERVED_TOPIC", reserved, { retriable: false });
    if (options !== undefined && options !== null && typeof options !== "object") {
      throw invalidEmit(`ctx.emit: options: expected an object, got ${describeValue(options)}`);
    }
    const { key, headers } = (options ?? {}) as EmitOptions;
    if (key !== undefined && key !== null && typeof key !== "string") {
      throw invalidEmit(`ctx.emit: options.key: expected a string or null, got ${describeValue(key)}`);
    }
    return { topic, key: key ?? null, value: this.#encodeValue(value), headers: copyHeaders(headers), recordIndex: this.recordIndex };
  }

  #encodeValue(value: unknown): Uint8Array | null {
    if (value === null) return null;
    if (value === undefined) throw invalidEmit("ctx.emit: value: expected a value, got undefined (use null for a tombstone)");
    const encoder = this.#rules.encoder;
    // Copies, never views: the function may reuse its buffer, and a view would carry its whole backing buffer across.
    if (value instanceof Uint8Array) return new Uint8Array(value);
    if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
    if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    if (typeof value === "string") return encoder.encode(value);
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (error) {
      throw invalidEmit(`ctx.emit: value: cannot be encoded as JSON: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (json === undefined) throw invalidEmit(`ctx.emit: value: cannot be encoded as JSON, got ${describeValue(value)}`);
    return encoder.encode(json);
  }
}

/** The bytes an emitted record takes in Kafka, near enough: value, key and headers. Shared with the host. */
export function emittedBytes(emit: Pick<WireEmit, "key" | "value" | "headers">): number {
  let bytes = emit.value === null ? 0 : emit.value.byteLength;
  if (emit.key !== null) bytes += utf8Length(emit.key);
  for (const name of Object.keys(emit.headers)) bytes += utf8Length(name) + utf8Length(emit.headers[name]!);
  return bytes;
}

function copyHeaders(headers: unknown): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  if (headers === undefined || headers === null) return out;
  if (typeof headers !== "object" || Array.isArray(headers)) {
    throw invalidEmit(`ctx.emit: options.headers: expected an object of strings, got ${describeValue(headers)}`);
  }
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== "string") {
      throw invalidEmit(`ctx.emit: options.headers.${name}: expected a string, got ${describeValue(value)}`);
    }
    out[name] = value;
  }
  return out;
}
