import { randomUUID } from "node:crypto";
import { Kafka, logLevel, Partitioners, type KafkaMessage } from "kafkajs";
import { inject } from "vitest";
import { createTopicsAndWait } from "../../runtime/kafka/topics.js";

export function testKafka(): Kafka {
  return new Kafka({ clientId: "eddy-test", brokers: inject("brokers").split(","), logLevel: logLevel.NOTHING });
}

export async function produce(topic: string, messages: { key?: string | null; value: string; headers?: Record<string, string> }[]): Promise<void> {
  // Idempotent: a retry of a request the broker partly wrote (a new topic's partition whose leader is not
  // ready yet refuses while the others write) must not write the test's input twice.
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 500) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
  } finally {
    await producer.disconnect();
  }
}

/** Creates a topic a test reads before anything wrote to it (kafkajs will not subscribe to a missing topic). */
export async function ensureTopic(topic: string, numPartitions = 3): Promise<void> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) await createTopicsAndWait(admin, [{ topic, numPartitions }]);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Reads a topic from the beginning until `count` records arrived, then keeps reading for `settleMs` more
 * so that records beyond the expected count (duplicates) are seen too.
 */
export async function consumeAll(
  topic: string,
  count: number,
  options: { timeoutMs?: number; settleMs?: number; distinctBy?: (message: KafkaMessage) => string } = {},
): Promise<KafkaMessage[]> {
  const { timeoutMs = 60_000, settleMs = 1_500, distinctBy } = options;
  // At-least-once topics may hold a record twice: with distinctBy, `count` is of distinct records.
  const seen = new Set<string>();
  await ensureTopic(topic);
  const consumer = testKafka().consumer({ groupId: `eddy-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    let reached!: () => void;
    const done = new Promise<void>((resolve) => (reached = resolve));
    // A reader that rejoins its group (a new topic's metadata changing under it) reads again from the
    // beginning: a record is counted once per partition and offset, so only duplicates in the topic count.
    const read = new Set<string>();
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        const position = `${partition}@${message.offset}`;
        if (read.has(position)) return;
        read.add(position);
        messages.push(message);
        if (distinctBy) seen.add(distinctBy(message));
        if ((distinctBy ? seen.size : messages.length) >= count) reached();
      },
    });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    return [...messages];
  } finally {
    await consumer.disconnect();
  }
}

/** Polls until `check` returns true or the time is up; returns the last value of `check`. */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 30_000, everyMs = 250): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return check();
}
