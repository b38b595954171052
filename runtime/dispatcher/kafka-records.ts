import type { KafkaMessage } from "kafkajs";
import type { EmittedRecord, SandboxRecord } from "../sandbox/function-sandbox.js";

/** A record to produce (an emit or a dead-letter copy). */
export interface OutgoingMessage {
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Set for changelog records, which go to their source record's partition; others use the key's. */
  partition?: number;
}

export interface TopicMessages {
  topic: string;
  messages: OutgoingMessage[];
}

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return headerText(value[value.length - 1]);
  return typeof value === "string" ? value : value.toString("utf8");
}

/** Most records have no headers: they share one frozen empty object (one allocation less a record). */
const NO_HEADERS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** A fetched kafkajs message as the sandbox takes it. */
export function toSandboxRecord(topic: string, partition: number, message: KafkaMessage): SandboxRecord {
  let headers: Record<string, string> = NO_HEADERS;
  const raw = message.headers;
  if (raw !== undefined) {
    for (const name in raw) {
      const text = headerText(raw[name]);
      if (text === undefined) continue;
      if (headers === NO_HEADERS) headers = {};
      headers[name] = text;
    }
  }
  return {
    topic,
    partition,
    offset: message.offset,
    timestamp: Number(message.timestamp),
    key: message.key === null ? null : message.key.toString("utf8"),
    value: message.value,
    headers,
  };
}

/** Emitted records grouped by topic, in the order they were emitted. */
export function emittedMessages(emitted: readonly EmittedRecord[]): TopicMessages[] {
  return groupByTopic(
    emitted.map((e) => ({
      topic: e.topic,
      message: {
        key: e.key,
        value: e.value === null ? null : Buffer.from(e.value.buffer, e.value.byteOffset, e.value.byteLength),
        headers: e.headers,
      },
    })),
  );
}

/** Groups messages by topic, keeping their order within each topic. */
export function groupByTopic(items: readonly { topic: string; message: OutgoingMessage }[]): TopicMessages[] {
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const { topic, message } of items) {
    const list = byTopic.get(topic);
    if (list) list.push(message);
    else byTopic.set(topic, [message]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

/** Concatenates several writes into one, per topic, in order. */
export function mergeTopicMessages(writes: readonly TopicMessages[][]): TopicMessages[] {
  return groupByTopic(writes.flatMap((write) => write.flatMap(({ topic, messages }) => messages.map((message) => ({ topic, message })))));
}
