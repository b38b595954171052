import { readCloudEvent } from "./cloud-event.js";
import type { CloudEvent, EddyEvent } from "./types.js";

/**
 * A record as it arrives from Kafka, before it becomes an {@link EddyEvent}.
 *
 * @example
 * ```ts
 * const record: EventRecord = { topic: "orders", partition: 0, offset: "42", timestamp: Date.now(), key: null, value: null, headers: {} };
 * ```
 */
export interface EventRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: number;
  key: string | null;
  value: Uint8Array | null;
  headers: Record<string, string>;
}

// The SDK type-checks without DOM or Node typings; at run time this is the global (the isolate's own
// or the platform's).
declare const TextDecoder: new () => { decode(input: Uint8Array): string };

// Created on first use, not at module load: inside the isolate this module is evaluated before the
// harness has installed TextDecoder.
let decoder: { decode(input: Uint8Array): string } | undefined;

class RecordEvent implements EddyEvent {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly timestamp: number;
  readonly key: string | null;
  readonly value: Uint8Array | null;
  readonly headers: Readonly<Record<string, string>>;
  #text: string | undefined;
  #cloudEvent: CloudEvent | null | undefined;

  constructor(record: EventRecord) {
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = record.offset;
    this.timestamp = record.timestamp;
    this.key = record.key;
    this.value = record.value;
    this.headers = record.headers;
  }

  text(): string {
    let text = this.#text;
    if (text === undefined) {
      decoder ??= new TextDecoder();
      text = this.value === null ? "" : decoder.decode(this.value);
      this.#text = text;
    }
    return text;
  }

  /** Read on first use: most functions never look, and most records are not CloudEvents. */
  get cloudEvent(): CloudEvent | undefined {
    if (this.#cloudEvent === undefined) this.#cloudEvent = readCloudEvent(this) ?? null;
    return this.#cloudEvent ?? undefined;
  }

  json<T = unknown>(): T {
    if (this.value === null) return null as T;
    try {
      return JSON.parse(this.text()) as T;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SyntaxError(`event.json(): the value of ${this.topic}/${this.partition}@${this.offset} is not JSON: ${reason}`);
    }
  }
}

/**
 * Builds the event a handler receives from a raw record. The sandbox uses it for every record;
 * tests of a function can use it to call the handler directly.
 *
 * @example
 * ```ts
 * const event = createEvent({
 *   topic: "orders", partition: 0, offset: "0", timestamp: Date.now(), key: "o-1",
 *   value: new TextEncoder().encode('{"id":"o-1"}'), headers: {},
 * });
 * event.json<{ id: string }>().id; // "o-1"
 * ```
 */
export function createEvent(record: EventRecord): EddyEvent {
  return new RecordEvent(record);
}
