// Runs inside the isolate: imports only types.
import type { EventRecord } from "../../../sdk/event.js";
import type { WireBatch } from "../wire.js";

/** The records of a WireBatch (see wire.ts), in order. Values are views into the batch's buffer. */
export function unpackBatch(batch: WireBatch): EventRecord[] {
  const { count, topics, topicIndex, partitions, timestamps, keys, keyLengths, data, valueOffsets, valueLengths, headers } = batch;
  const offsets = count === 0 ? [] : batch.offsets.split(",");
  const records: EventRecord[] = new Array<EventRecord>(count);
  let keyAt = 0;
  for (let i = 0; i < count; i++) {
    let key: string | null = null;
    const keyLength = keyLengths === null ? -1 : keyLengths[i]!;
    if (keys !== null && keyLength >= 0) {
      key = keys.slice(keyAt, keyAt + keyLength);
      keyAt += keyLength;
    }
    const valueLength = valueLengths[i]!;
    records[i] = {
      topic: topics[topicIndex === null ? 0 : topicIndex[i]!]!,
      partition: partitions[i]!,
      offset: offsets[i]!,
      timestamp: timestamps[i]!,
      key,
      // An object of its own for each record (the copy made one each when there are headers).
      headers: headers === null ? {} : headers[i]!,
      value: valueLength < 0 ? null : data.subarray(valueOffsets[i]!, valueOffsets[i]! + valueLength),
    };
  }
  return records;
}
