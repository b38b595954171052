import type { Admin, Kafka, KafkaMessage } from "kafkajs";
import { log } from "../log.js";

/** One record as the dashboard shows it: text, cut to a readable size. */
export interface PeekedRecord {
  partition: number;
  offset: string;
  timestamp: string;
  key: string | null;
  value: string;
  headers: Record<string, string>;
}

const MAX_VALUE_CHARS = 4_096;
const READ_LIMIT_MS = 10_000;

function text(value: Buffer | string | (Buffer | string)[] | undefined | null): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return text(value[value.length - 1]);
  return typeof value === "string" ? value : value.toString("utf8");
}

function peeked(partition: number, message: KafkaMessage): PeekedRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const header = text(value);
    if (header !== undefined) headers[name] = header;
  }
  const value = text(message.value) ?? "";
  return {
    partition,
    offset: message.offset,
    timestamp: new Date(Number(message.timestamp)).toISOString(),
    key: text(message.key) ?? null,
    value: value.length > MAX_VALUE_CHARS ? `${value.slice(0, MAX_VALUE_CHARS)}… (cut)` : value,
    headers,
  };
}

/**
 * The newest `limit` records of a topic, newest first (the dashboard's view of a dead-letter topic).
 * A throwaway group is pointed `limit` records before each partition's end, reads up to the end it
 * saw at the start, and is deleted afterwards; nothing else's position moves. A missing topic has none.
 */
export async function newestRecords(kafka: Kafka, admin: Admin, topic: string, limit: number, groupId: string): Promise<PeekedRecord[]> {
  const ends = await admin.fetchTopicOffsets(topic).catch(() => []);
  const ranges = ends
    .map((p) => ({ partition: p.partition, end: BigInt(p.high), start: BigInt(p.high) - BigInt(limit) < BigInt(p.low) ? BigInt(p.low) : BigInt(p.high) - BigInt(limit) }))
    .filter((r) => r.start < r.end);
  if (ranges.length === 0) return [];
  await admin.setOffsets({ groupId, topic, partitions: ranges.map((r) => ({ partition: r.partition, offset: r.start.toString() })) });
  const records: PeekedRecord[] = [];
  const remaining = new Map(ranges.map((r) => [r.partition, r.end]));
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  try {
    await consumer.connect();
    await consumer.subscribe({ topic });
    let done!: () => void;
    const allRead = new Promise<void>((resolve) => (done = resolve));
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const end = remaining.get(batch.partition);
        if (end === undefined) return;
        for (const message of batch.messages) {
          if (BigInt(message.offset) >= end) break;
          records.push(peeked(batch.partition, message));
        }
        // The end may be a transaction marker, never delivered: the batch's last offset tells how far the fetch got.
        if (BigInt(batch.lastOffset()) + 1n >= end) remaining.delete(batch.partition);
        if (remaining.size === 0) done();
      },
    });
    await Promise.race([allRead, new Promise((resolve) => setTimeout(resolve, READ_LIMIT_MS))]);
  } finally {
    await consumer.disconnect().catch(() => undefined);
    await admin.deleteGroups([groupId]).catch((error: unknown) => log.debug({ err: error, groupId }, "deleting a peek group failed"));
  }
  return records
    .sort((a, b) => (a.timestamp === b.timestamp ? Number(BigInt(b.offset) - BigInt(a.offset)) : a.timestamp < b.timestamp ? 1 : -1))
    .slice(0, limit);
}
