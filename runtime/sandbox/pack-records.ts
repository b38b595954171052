import type { SandboxRecord } from "./types.js";
import type { WireBatch } from "./wire.js";

/**
 * Packs an invocation's records into the columns that cross into the isolate (see WireBatch).
 *
 * Every numeric column and the values share one ArrayBuffer: isolated-vm copies a buffer once
 * however many views point into it, and each buffer of its own cost a few µs of the worker's main
 * thread per invocation (six of them made the copy about twice as dear).
 */
export function packRecords(records: readonly SandboxRecord[]): WireBatch {
  const count = records.length;
  let total = 0;
  let hasKeys = false;
  let oneTopic = true;
  const first = records[0]?.topic;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    if (record.value !== null) total += record.value.byteLength;
    if (record.key !== null) hasKeys = true;
    if (record.topic !== first) oneTopic = false;
  }
  // Float64 first, so that every view starts aligned to its element size.
  const at = { timestamps: 0, partitions: 8 * count, valueOffsets: 12 * count, valueLengths: 16 * count, keyLengths: 20 * count };
  const topicIndexAt = at.keyLengths + (hasKeys ? 4 * count : 0);
  const dataAt = topicIndexAt + (oneTopic ? 0 : 2 * count);
  const buffer = new ArrayBuffer(dataAt + total);
  const timestamps = new Float64Array(buffer, at.timestamps, count);
  const partitions = new Int32Array(buffer, at.partitions, count);
  const valueOffsets = new Int32Array(buffer, at.valueOffsets, count);
  const valueLengths = new Int32Array(buffer, at.valueLengths, count);
  const keyLengths = hasKeys ? new Int32Array(buffer, at.keyLengths, count) : null;
  const topicIndex = oneTopic ? null : new Uint16Array(buffer, topicIndexAt, count);
  const data = new Uint8Array(buffer, dataAt, total);

  const topics: string[] = count > 0 ? [first!] : [];
  const offsets: string[] = new Array<string>(count);
  let keys = "";
  let headers: Record<string, string>[] | null = null;
  let position = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    if (topicIndex !== null) {
      let index = topics.indexOf(record.topic);
      if (index < 0) index = topics.push(record.topic) - 1;
      topicIndex[i] = index;
    }
    partitions[i] = record.partition;
    timestamps[i] = record.timestamp;
    offsets[i] = record.offset;
    if (keyLengths !== null) {
      if (record.key === null) keyLengths[i] = -1;
      else {
        keyLengths[i] = record.key.length;
        keys += record.key;
      }
    }
    if (headers === null) {
      for (const _ in record.headers) {
        headers = records.map((r) => r.headers);
        break;
      }
    }
    valueOffsets[i] = position;
    const value = record.value;
    if (value === null) valueLengths[i] = -1;
    else {
      valueLengths[i] = value.byteLength;
      data.set(value, position);
      position += value.byteLength;
    }
  }
  return {
    count,
    topics,
    topicIndex,
    partitions,
    offsets: offsets.join(","),
    timestamps,
    keys: keyLengths === null ? null : keys,
    keyLengths,
    data,
    valueOffsets,
    valueLengths,
    headers,
  };
}
