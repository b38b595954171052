import { randomUUID } from "node:crypto";
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from "kafkajs";
import { replicatedTopic } from "../kafka/replication.js";
import { createTopicsAndWait } from "../kafka/topics.js";

const SYNC_LIMIT_MS = 30_000;
/**
 * How long the follower's fetch waits at the broker for a new record. A write is read back as soon as
 * the broker has it (the waiting fetch answers then), so this costs no latency; what it sets is how
 * often an idle instance asks (at 100 ms, 10 fetches a second per topic), and how long closing may
 * wait for the fetch in flight.
 */
const FOLLOW_WAIT_MS = 500;

export type KeyedMessage = { key: string; value: string | null };

/**
 * A compacted one-partition topic used as a keyed store, read back before a write answers (the registry
 * and the tokens). Every record is handed to `apply` in log order, from
 * the start of the topic, and a write resolves only once this instance has read it back, so the log's
 * order is the only truth and every instance (and a restarted one) ends in the same state.
 */
export class CompactedTopic {
  /** The next offset the reader will apply. */
  private position = 0n;
  private waiters: { offset: bigint; resolve: () => void }[] = [];

  private constructor(
    private readonly topic: string,
    private readonly admin: Admin,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
    private readonly apply: (key: string, value: string | null) => void,
  ) {}

  /**
   * Creates the topic if needed (`maxMessageBytes` raises the broker's 1 MB record limit, e.g. for bundles),
   * reads it to its end and keeps following it.
   */
  static async open(
    kafka: Kafka,
    topic: string,
    apply: (key: string, value: string | null) => void,
    options: { maxMessageBytes?: number } = {},
  ): Promise<CompactedTopic> {
    const admin = kafka.admin();
    await admin.connect();
    await ensureCompactedTopic(admin, topic, options.maxMessageBytes);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // A private group that never commits: it always reads the whole log, and the broker forgets it once it is empty.
    const consumer = kafka.consumer({ groupId: `${topic}.reader.${randomUUID()}`, maxWaitTimeInMs: FOLLOW_WAIT_MS });
    const log = new CompactedTopic(topic, admin, producer, consumer, apply);
    await log.follow();
    await log.sync();
    return log;
  }

  private async follow(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key) this.apply(message.key.toString(), message.value === null ? null : message.value.toString("utf8"));
        this.advance(BigInt(message.offset) + 1n);
      },
    });
  }

  private advance(position: bigint): void {
    if (position <= this.position) return;
    this.position = position;
    const ready = this.waiters.filter((w) => w.offset <= position);
    this.waiters = this.waiters.filter((w) => w.offset > position);
    for (const waiter of ready) waiter.resolve();
  }

  private reach(offset: bigint): Promise<void> {
    if (offset <= this.position) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ offset, resolve }));
  }

  /** Waits until everything written so far (by any instance) has been applied here. */
  async sync(): Promise<void> {
    const [end] = await this.admin.fetchTopicOffsets(this.topic);
    if (!end || end.high === end.low) return;
    // The active segment is never compacted, so the last record is always there to be read; the limit only guards against the unforeseen.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SYNC_LIMIT_MS)));
    await Promise.race([this.reach(BigInt(end.high)), late]);
    clearTimeout(timer);
  }

  /** Writes in one request (all or nothing, in order), acked by every in-sync replica, then waits to read it back. */
  async write(messages: KeyedMessage[]): Promise<void> {
    const [result] = await this.producer.send({ topic: this.topic, acks: -1, messages });
    if (result?.baseOffset !== undefined) await this.reach(BigInt(result.baseOffset) + BigInt(messages.length));
    else await this.sync();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect(), this.admin.disconnect()]);
  }
}

async function ensureCompactedTopic(admin: Admin, topic: string, maxMessageBytes?: number): Promise<void> {
  if ((await admin.listTopics()).includes(topic)) return;
  const { replicationFactor, configEntries: replicationEntries = [] } = await replicatedTopic(admin);
  const configEntries = [{ name: "cleanup.policy", value: "compact" }, ...replicationEntries];
  if (maxMessageBytes !== undefined) configEntries.push({ name: "max.message.bytes", value: String(maxMessageBytes) });
  // One partition: one total order of every write. Three copies on a cluster of three or more brokers.
  await createTopicsAndWait(admin, [{ topic, numPartitions: 1, replicationFactor, configEntries }]);
}
