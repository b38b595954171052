import { describe, expect, it } from "vitest";
import { unpackBatch } from "./isolate/unpack-batch.js";
import { packRecords } from "./pack-records.js";
import type { SandboxRecord } from "./types.js";

const bytes = (text: string) => new TextEncoder().encode(text);

function record(overrides: Partial<SandboxRecord>): SandboxRecord {
  return { topic: "orders", partition: 0, offset: "0", timestamp: 1_700_000_000_000, key: null, value: null, headers: {}, ...overrides };
}

/** What crosses must come out as it went in (values compared as bytes: they become views into one buffer). */
function roundTrip(records: SandboxRecord[]) {
  const batch = structuredClone(packRecords(records));
  return unpackBatch(batch).map((r) => ({ ...r, value: r.value === null ? null : [...r.value] }));
}
const plain = (records: SandboxRecord[]) => records.map((r) => ({ ...r, value: r.value === null ? null : [...r.value] }));

describe("packRecords / unpackBatch", () => {
  it("carries every field of every record, in order", () => {
    const records = [
      record({ offset: "9007199254740993", key: "k-1", value: bytes("one"), headers: { trace: "a" } }),
      record({ offset: "9007199254740994", key: null, value: null }),
      record({ offset: "9007199254740997", key: "", value: new Uint8Array(0), timestamp: 5 }),
      record({ offset: "9007199254740998", key: "ключ,🔑", value: bytes("four"), headers: { a: "1", b: "2" } }),
    ];
    expect(roundTrip(records)).toEqual(plain(records));
  });

  it("keeps records of several topics and partitions apart", () => {
    const records = [
      record({ topic: "a", partition: 3, offset: "1" }),
      record({ topic: "b", partition: 1, offset: "7", key: "x" }),
      record({ topic: "a", partition: 2, offset: "2" }),
      record({ topic: "c", partition: 0, offset: "3", value: bytes("v") }),
    ];
    expect(roundTrip(records)).toEqual(plain(records));
  });

  it("packs values into one buffer of exactly their bytes, and nothing for an empty batch", () => {
    const backing = bytes("xxxxhelloyyyy");
    const view = backing.subarray(4, 9);
    const batch = packRecords([record({ value: view }), record({ offset: "1", value: bytes("!") })]);
    expect(batch.data.byteLength).toBe(6);
    expect(batch.topicIndex).toBeNull();
    expect(batch.keys).toBeNull();
    expect(batch.headers).toBeNull();
    expect(unpackBatch(structuredClone(packRecords([])))).toEqual([]);
  });

  it("gives every record a headers object of its own", () => {
    const [first, second] = unpackBatch(structuredClone(packRecords([record({}), record({ offset: "1" })])));
    expect(first!.headers).not.toBe(second!.headers);
  });
});
