import { describe, expect, it } from "vitest";
import { packEmits } from "./isolate/pack-emits.js";
import { checkResult, type ResultRules } from "./result-check.js";
import type { WireEmit } from "./wire.js";

const rules: ResultRules = {
  limits: { maxEmitRecordBytes: 1_048_576, maxEmitBytesPerInvocation: 16_777_216, maxEmitsPerInvocation: 10_000, maxStateValueBytes: 1_048_000 },
  reserved: { exact: [], prefixes: [] },
  stopOnFailure: true,
};

const bytes = (text: string) => new TextEncoder().encode(text);
const emits: WireEmit[] = [
  { topic: "out", key: "k1", value: bytes('{"id":1}'), headers: {}, recordIndex: 0 },
  { topic: "other.topic", key: null, value: null, headers: { trace: "abc", "x-é": "wörld" }, recordIndex: 1 },
  { topic: "out", key: "日本", value: new Uint8Array([0, 255, 7]), headers: {}, recordIndex: 1 },
  { topic: "out", key: "k3", value: new Uint8Array(0), headers: {}, recordIndex: -1 },
];

/** What the host makes of a packed result: the emits with plain arrays for values, or the problem. */
function unpacked(emitted: unknown, recordCount = 2) {
  const result = checkResult({ outcomes: recordCount, emitted }, recordCount, rules);
  if ("problem" in result) return result.problem;
  return result.emitted.map((e) => ({ ...e, value: e.value === null ? null : Array.from(e.value) }));
}

describe("packEmits and the host's check of what it packed", () => {
  it("carries every emit across as it was, values back to back in one buffer", () => {
    const packed = packEmits(emits)!;
    expect(packed.data.buffer.byteLength).toBe(8 * emits.length + 8 + 3);
    expect(packed.headers).not.toBeNull();
    expect(unpacked(packed)).toEqual(emits.map((e) => ({ ...e, value: e.value === null ? null : Array.from(e.value) })));
  });

  it("sends null for no emits, and no header column when no emit has headers", () => {
    expect(packEmits([])).toBeNull();
    expect(unpacked(null)).toEqual([]);
    expect(packEmits([emits[0]!])!.headers).toBeNull();
  });

  it("refuses packed emits whose columns disagree, or whose lengths run past the bytes that crossed", () => {
    const good = () => packEmits(emits)!;
    expect(unpacked({ ...good(), keys: ["k1"] })).toMatch(/wrong shape/);
    expect(unpacked({ ...good(), valueLengths: new Int32Array([8, -1, 3, 4_000]) })).toMatch(/wrong shape/);
    expect(unpacked({ ...good(), recordIndexes: new Int32Array([0, 1, 2, 0]) })).toMatch(/wrong shape/);
    expect(unpacked({ ...good(), topics: ["out", "bad topic!", "out", "out"] })).toMatch(/wrong shape/);
    expect(unpacked({ ...good(), headers: [{}, { a: 1 }, {}, {}] })).toMatch(/wrong shape/);
    expect(unpacked({ ...good(), data: [1, 2, 3] })).toMatch(/wrong shape/);
    expect(unpacked([])).toMatch(/wrong shape/);
  });
});
