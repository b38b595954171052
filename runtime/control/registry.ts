import { randomUUID } from "node:crypto";
import { Partitioners, type Consumer, type Kafka, type Producer } from "kafkajs";
import type { FunctionRecord } from "../config/function-record.js";
import { log } from "../log.js";

/** Large enough for a bundled function; the broker default (1 MB) is not. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

type ChangeListener = (name: string, record: FunctionRecord | null) => void;

/**
 * The deployed functions, kept in a compacted topic keyed by function name: the log is the registry.
 * Every instance rebuilds its state by reading the topic from the start, then follows it, so a deploy
 * made through another instance reaches this one too. Writes answer only after all in-sync replicas acked.
 */
export class FunctionRegistry {
  private readonly functions = new Map<string, FunctionRecord>();
  private readonly listeners: ChangeListener[] = [];

  private constructor(
    private readonly topic: string,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
  ) {}

  static async open(kafka: Kafka, topic: string): Promise<FunctionRegistry> {
    const admin = kafka.admin();
    await admin.connect();
    try {
      await ensureRegistryTopic(admin, topic);
      const ends = await admin.fetchTopicOffsets(topic);
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
      await producer.connect();
      // A private group that never commits: it always reads the whole log, and the broker forgets it once it is empty.
      const consumer = kafka.consumer({ groupId: `${topic}.reader.${randomUUID()}`, maxWaitTimeInMs: 500 });
      const registry = new FunctionRegistry(topic, producer, consumer);
      await registry.catchUp(ends);
      return registry;
    } finally {
      await admin.disconnect();
    }
  }

  private async catchUp(ends: { partition: number; high: string }[]): Promise<void> {
    const remaining = new Map(ends.filter((e) => e.high !== "0").map((e) => [e.partition, BigInt(e.high)]));
    let caughtUp!: () => void;
    const done = new Promise<void>((resolve) => (caughtUp = resolve));
    if (remaining.size === 0) caughtUp();

    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (message.key) this.apply(message.key.toString(), message.value);
        const end = remaining.get(partition);
        if (end !== undefined && BigInt(message.offset) + 1n >= end) {
          remaining.delete(partition);
          if (remaining.size === 0) caughtUp();
        }
      },
    });
    await done;
  }

  private apply(name: string, value: Buffer | null): void {
    const current = this.functions.get(name);
    if (value === null) {
      if (!current) return;
      this.functions.delete(name);
      this.notify(name, null);
      return;
    }
    let record: FunctionRecord;
    try {
      record = JSON.parse(value.toString("utf8")) as FunctionRecord;
    } catch (error) {
      log.error({ err: error, name }, "skipping an unreadable registry record");
      return;
    }
    // Our own writes were applied already; the log echoes them back.
    if (current && current.version >= record.version && current.digest === record.digest) return;
    this.functions.set(name, record);
    this.notify(name, record);
  }

  private notify(name: string, record: FunctionRecord | null): void {
    for (const listener of this.listeners) listener(name, record);
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  list(): FunctionRecord[] {
    return [...this.functions.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): FunctionRecord | undefined {
    return this.functions.get(name);
  }

  /** Stores a version; resolves once every in-sync replica has it. */
  async put(record: FunctionRecord): Promise<void> {
    await this.producer.send({
      topic: this.topic,
      acks: -1,
      messages: [{ key: record.name, value: JSON.stringify(record) }],
    });
    this.functions.set(record.name, record);
    this.notify(record.name, record);
  }

  /** Removes a function (a tombstone, which compaction eventually erases). */
  async remove(name: string): Promise<void> {
    await this.producer.send({ topic: this.topic, acks: -1, messages: [{ key: name, value: null }] });
    this.apply(name, null);
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect()]);
  }
}

async function ensureRegistryTopic(admin: ReturnType<Kafka["admin"]>, topic: string): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      {
        topic,
        // One partition keeps every deploy of every function in one total order.
        numPartitions: 1,
        configEntries: [
          { name: "cleanup.policy", value: "compact" },
          { name: "max.message.bytes", value: String(MAX_RECORD_BYTES) },
        ],
      },
    ],
  });
}
