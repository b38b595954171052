import type { SandboxRecord } from "./types.js";
import type { WireBatch } from "./wire.js";

/**
 * Packs the values of a batch into one buffer so that the batch crosses into the isolate as one
 * copy of exactly its bytes (a copied view would carry its whole backing buffer, and kafkajs
 * values are views into the fetch response).
 */
export function packRecords(records: readonly SandboxRecord[]): WireBatch {
  let total = 0;
  for (const record of records) if (record.value !== null) total += record.value.byteLength;
  const data = new Uint8Array(total);
  let offset = 0;
  const wire = records.map((record) => {
    const value = record.value;
    const valueOffset = offset;
    if (value !== null) {
      data.set(value, offset);
      offset += value.byteLength;
    }
    return {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      timestamp: record.timestamp,
      key: record.key,
      headers: record.headers,
      valueOffset,
      valueLength: value === null ? -1 : value.byteLength,
    };
  });
  return { records: wire, data };
}
