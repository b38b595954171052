import type { SandboxRecord } from "./types.js";
import type { WireBatch } from "./wire.js";

/** Packs an invocation's records into the columns that cross into the isolate (see WireBatch). */
export function packRecords(records: readonly SandboxRecord[]): WireBatch {
  const count = records.length;
  const topics: string[] = [];
  let topicIndex: Uint16Array | null = null;
  const partitions = new Int32Array(count);
  const timestamps = new Float64Array(count);
  const valueOffsets = new Int32Array(count);
  const valueLengths = new Int32Array(count);
  const offsets: string[] = new Array<string>(count);
  let keyLengths: Int32Array | null = null;
  let keys = "";
  let headers: Record<string, string>[] | null = null;
  let total = 0;
  for (let i = 0; i < count; i++) {
    const record = records[i]!;
    if (i === 0) topics.push(record.topic);
    else if (record.topic !== topics[0] || topicIndex !== null) {
      topicIndex ??= new Uint16Array(count);
      let index = topics.indexOf(record.topic);
      if (index < 0) index = topics.push(record.topic) - 1;
      topicIndex[i] = index;
    }
    partitions[i] = record.partition;
    timestamps[i] = record.timestamp;
    offsets[i] = record.offset;
    if (record.key !== null) {
      keyLengths ??= new Int32Array(count).fill(-1);
      keyLengths[i] = record.key.length;
      keys += record.key;
    }
    if (headers === null) {
      for (const _ in record.headers) {
        headers = records.map((r) => r.headers);
        break;
      }
    }
    valueOffsets[i] = total;
    valueLengths[i] = record.value === null ? -1 : record.value.byteLength;
    if (record.value !== null) total += record.value.byteLength;
  }
  const data = new Uint8Array(total);
  for (let i = 0; i < count; i++) {
    const value = records[i]!.value;
    if (value !== null) data.set(value, valueOffsets[i]);
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
