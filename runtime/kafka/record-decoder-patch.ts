import { createRequire } from "node:module";

/** The parts of kafkajs' protocol Decoder (one per record) that the record decoder reads with. */
export interface KafkaDecoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readVarInt(): number;
  readVarLong(): { toString(): string };
  readVarIntBytes(): Buffer | null;
  readVarIntString(): string | null;
}

/** What kafkajs' record batch decoder hands each record's decoder (kafkajs/src/protocol/recordBatch/v0/decoder.js). */
export interface RecordBatchContext {
  firstOffset: string;
  firstTimestamp: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

/** A decoded record, field for field as kafkajs 2.2.4's own decoder returns it. */
export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: RecordBatchContext;
}

type RecordDecoder = (decoder: KafkaDecoder, batchContext?: RecordBatchContext) => DecodedRecord;

const LOG_APPEND_TIME = 1;
/** A varlong of at most 7 bytes holds 49 bits: exact as a JavaScript number. */
const MAX_NUMBER_VARLONG_BYTES = 7;
const PATCHED = Symbol.for("eddy.kafkajs.recordDecoderPatched");
const BASES = new WeakMap<RecordBatchContext, { offset: number | null; timestamp: number | null }>();

/** A decimal int64 string as a number, when it is one exactly (Kafka's offsets and timestamps always are); else null. */
function exactNumber(text: string): number | null {
  const value = Number(text);
  return Number.isSafeInteger(value) && String(value) === text ? value : null;
}

/** `base + delta` in decimal, exact (kafkajs' Long is a bigint underneath and does not wrap either). */
function addToDecimal(baseText: string, base: number | null, delta: number | bigint): string {
  if (base !== null && typeof delta === "number") {
    const sum = base + delta;
    if (Number.isSafeInteger(sum)) return String(sum);
  }
  return (BigInt(baseText) + BigInt(delta)).toString();
}

/** A zigzag varlong: a number when it fits in 7 bytes (any delta under 2^48), else a bigint through kafkajs' own reader. */
function readVarLong(decoder: KafkaDecoder): number | bigint {
  const { buffer } = decoder;
  const start = decoder.offset;
  let unsigned = 0;
  let scale = 1;
  for (let i = 0; i < MAX_NUMBER_VARLONG_BYTES; i++) {
    const byte = buffer[start + i];
    if (byte === undefined) break;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      decoder.offset = start + i + 1;
      return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    }
    scale *= 128;
  }
  decoder.offset = start;
  return BigInt(decoder.readVarLong().toString());
}

/**
 * kafkajs 2.2.4's record decoder (recordBatch/record/v0/decoder.js), with the same result, without
 * its per-record int64 arithmetic: kafkajs parses the batch's first offset and timestamp from decimal
 * strings for every record, adds the deltas as Long objects and prints the sums back, about ten
 * objects a record. A bare consumer's profile puts that and its garbage at over a fifth of the main
 * thread. Here the batch's bases are parsed once, the sums are numbers (a bigint past 2^53, never in
 * practice), and headers are merged into one object instead of one copy per header.
 */
export function decodeRecord(decoder: KafkaDecoder, batchContext: RecordBatchContext = {} as RecordBatchContext): DecodedRecord {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  let bases = BASES.get(batchContext);
  if (bases === undefined) {
    bases = { offset: exactNumber(String(firstOffset)), timestamp: exactNumber(String(firstTimestamp)) };
    BASES.set(batchContext, bases);
  }
  const attributes = decoder.readInt8();
  const timestampDelta = readVarLong(decoder);
  const timestamp = timestampType === LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : addToDecimal(String(firstTimestamp), bases.timestamp, timestampDelta);
  const offset = addToDecimal(String(firstOffset), bases.offset, decoder.readVarInt());
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  const headers: DecodedRecord["headers"] = {};
  const headerCount = decoder.readVarInt();
  for (let i = 0; i < headerCount; i++) {
    const name = decoder.readVarIntString() as string;
    const headerValue = decoder.readVarIntBytes();
    const before = Object.hasOwn(headers, name) ? headers[name] : undefined;
    const merged = before === undefined ? headerValue : Array.isArray(before) ? [...before, headerValue] : [before, headerValue];
    // An own property even for "__proto__" (kafkajs' object spread makes one; an assignment would set the prototype).
    Object.defineProperty(headers, name, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
}

/**
 * Makes kafkajs decode fetched records with `decodeRecord`. kafkajs' record batch decoder takes its
 * record decoder with `require` when it is first loaded, which is at the first fetch response (kafkajs
 * loads protocol versions lazily), so this must run before any consumer fetches in the process.
 * @returns false when a batch decoder was already loaded with kafkajs' own record decoder (nothing changes then)
 */
export function patchKafkaRecordDecoder(): boolean {
  const require = createRequire(import.meta.url);
  const recordPath = require.resolve("kafkajs/src/protocol/recordBatch/record/v0/decoder.js");
  const batchPath = require.resolve("kafkajs/src/protocol/recordBatch/v0/decoder.js");
  require(recordPath);
  const cached = require.cache[recordPath]!;
  if ((cached.exports as { [PATCHED]?: true })[PATCHED]) return true;
  if (require.cache[batchPath] !== undefined) return false;
  const patched: RecordDecoder & { [PATCHED]?: true } = (decoder, batchContext) => decodeRecord(decoder, batchContext);
  patched[PATCHED] = true;
  cached.exports = patched;
  return true;
}
