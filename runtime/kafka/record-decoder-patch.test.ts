import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { decodeRecord, patchKafkaRecordDecoder, type KafkaDecoder, type RecordBatchContext } from "./record-decoder-patch.js";

const require = createRequire(import.meta.url);
type Encoded = { buffer: Buffer };
const encodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/index.js") as (record: {
  offsetDelta?: number;
  timestampDelta?: unknown;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[]>;
}) => Encoded;
const Decoder = require("kafkajs/src/protocol/decoder.js") as new (buffer: Buffer) => KafkaDecoder & { readVarIntBytes(): Buffer };
const Long = require("kafkajs/src/utils/long.js") as { fromString(text: string): unknown; fromNumber(value: number): unknown };
// kafkajs' own decoder, loaded from its file (the patch only swaps what kafkajs' batch decoder gets).
const kafkajsDecodeRecord = require("kafkajs/src/protocol/recordBatch/record/v0/decoder.js") as (decoder: KafkaDecoder, context: RecordBatchContext) => unknown;

/** One record's bytes as a batch holds them, and a decoder over its body (as kafkajs' batch decoder makes one). */
function bodyDecoder(record: Parameters<typeof encodeRecord>[0]): () => KafkaDecoder {
  const framed = encodeRecord(record).buffer;
  return () => new Decoder(new Decoder(framed).readVarIntBytes());
}

function context(overrides: Partial<RecordBatchContext> = {}): RecordBatchContext {
  return { firstOffset: "1000", firstTimestamp: "1764806400000", magicByte: 2, isControlBatch: false, timestampType: 0, maxTimestamp: "1764806400999", ...overrides };
}

function expectSame(record: Parameters<typeof encodeRecord>[0], batch: RecordBatchContext): void {
  const decoder = bodyDecoder(record);
  const ours = decodeRecord(decoder(), batch);
  expect(ours).toEqual(kafkajsDecodeRecord(decoder(), batch));
  expect(Object.keys(ours.headers)).toEqual(Object.keys((kafkajsDecodeRecord(decoder(), batch) as { headers: object }).headers));
}

describe("decodeRecord, against kafkajs 2.2.4's own record decoder", () => {
  it("decodes a plain record, null keys and values, and empty ones the same", () => {
    expectSame({ offsetDelta: 7, timestampDelta: Long.fromNumber(12), key: "k-1", value: "v".repeat(300) }, context());
    expectSame({ offsetDelta: 0, key: null, value: null }, context());
    expectSame({ offsetDelta: 1, key: "", value: "" }, context());
  });

  it("adds negative, zero and large timestamp deltas as int64, wider than 7 varlong bytes included", () => {
    for (const delta of ["-1", "-1764806400000", "0", "281474976710655", "281474976710656", "9007199254740993", "-9223372036854775808"]) {
      expectSame({ offsetDelta: 3, timestampDelta: Long.fromString(delta), key: "k", value: "v" }, context());
    }
  });

  it("keeps offsets and timestamps past 2^53 exact, as kafkajs does (past int64 too, where it does not wrap)", () => {
    expectSame({ offsetDelta: 5, timestampDelta: Long.fromNumber(1), key: "k", value: "v" }, context({ firstOffset: "9007199254740990", firstTimestamp: "9223372036854775807" }));
    expectSame({ offsetDelta: 2_000_000, key: "k", value: "v" }, context({ firstOffset: "9223372036854775000" }));
    expectSame({ offsetDelta: 0, key: "k", value: "v" }, context({ firstTimestamp: "-1" }));
  });

  it("takes the batch's max timestamp under LOG_APPEND_TIME, and marks control records", () => {
    expectSame({ offsetDelta: 1, timestampDelta: Long.fromNumber(50), key: "k", value: "v" }, context({ timestampType: 1 }));
    expectSame({ offsetDelta: 1, key: "k", value: "v" }, context({ isControlBatch: true }));
  });

  it("merges headers as kafkajs does: repeated names become arrays in order", () => {
    expectSame({ offsetDelta: 1, key: "k", value: "v", headers: { a: "1", b: Buffer.from([0, 255]), c: ["x", "y", "z"] } }, context());
  });

  it("reads a header named __proto__ as an own header (kafkajs pairs it with Object.prototype in an array)", () => {
    // JSON.parse makes "__proto__" an own key; an object literal would set the prototype instead.
    const headers = JSON.parse('{"__proto__":"p"}') as Record<string, string>;
    const record = decodeRecord(bodyDecoder({ offsetDelta: 1, key: "k", value: "v", headers })(), context());
    expect(Object.getPrototypeOf(record.headers)).toBe(Object.prototype);
    expect(Object.keys(record.headers)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(record.headers, "__proto__")?.value).toEqual(Buffer.from("p"));
  });

  it("decodes consecutive records of one batch with the bases parsed once", () => {
    const batch = context({ firstOffset: "42" });
    for (let delta = 0; delta < 5; delta++) expectSame({ offsetDelta: delta, timestampDelta: Long.fromNumber(delta * 3), key: `k${delta}`, value: `v${delta}` }, batch);
  });

  it("is what kafkajs' batch decoder uses once patched, on a batch kafkajs encoded", async () => {
    expect(patchKafkaRecordDecoder()).toBe(true);
    expect(patchKafkaRecordDecoder(), "a second call changes nothing").toBe(true);
    const encodeBatch = (require("kafkajs/src/protocol/recordBatch/v0/index.js") as { RecordBatch: (batch: object) => Promise<Encoded> }).RecordBatch;
    const decodeBatch = require("kafkajs/src/protocol/recordBatch/v0/decoder.js") as (decoder: KafkaDecoder) => Promise<{ records: { offset: string; key: Buffer; headers: object }[] }>;
    expect(require("kafkajs/src/protocol/recordBatch/record/v0/decoder.js")).not.toBe(kafkajsDecodeRecord);
    const records = [0, 1, 2].map((i) => encodeRecord({ offsetDelta: i, key: `k${i}`, value: `v${i}`, headers: { h: String(i) } }));
    const batch = await encodeBatch({ firstOffset: Long.fromString("77"), firstTimestamp: 1764806400000, maxTimestamp: 1764806400000, lastOffsetDelta: 2, records });
    const decoded = await decodeBatch(new Decoder(batch.buffer));
    expect(decoded.records.map((r) => [r.offset, r.key.toString(), r.headers])).toEqual([0, 1, 2].map((i) => [String(77 + i), `k${i}`, { h: Buffer.from(String(i)) }]));
  });
});
