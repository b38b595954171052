import { randomUUID } from "node:crypto";
import type { Admin, Consumer, Kafka } from "kafkajs";
import { log } from "../log.js";

/** One key's latest value in the changelog: JSON text, and when it was written. */
export interface ChangelogEntry {
  value: string;
  timestamp: number;
}

/**
 * Reads a changelog topic from its start, with read_committed (an aborted transaction's state never
 * shows), into the latest value per key of the partitions `keep` selects; a tombstone removes its key.
 * Used to restore a worker's partitions and, kept running, to answer the state route.
 *
 * It reads through a consumer group of its own (kafkajs has no group-less consumer); that group never
 * commits, and is deleted when the reader stops.
 */
export class ChangelogReader {
  readonly #values = new Map<number, Map<string, ChangelogEntry>>();
  /** Per partition, the offset after the last record or transaction marker read. */
  readonly #positions = new Map<number, bigint>();
  readonly #waiters = new Set<() => void>();
  #stopped = false;

  private constructor(
    readonly topic: string,
    private readonly consumer: Consumer,
    private readonly groupId: string,
    private readonly keep: (partition: number) => boolean,
  ) {}

  /** Starts reading `topic` (all of it; only `keep`'s partitions are held). */
  static async start(kafka: Kafka, topic: string, keep: (partition: number) => boolean = () => true): Promise<ChangelogReader> {
    const groupId = `eddy-state-reader.${topic}.${randomUUID()}`;
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, allowAutoTopicCreation: false, readUncommitted: false });
    const reader = new ChangelogReader(topic, consumer, groupId, keep);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    // Batches of transaction markers alone are never handed over: their end still moves the position.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) reader.#advance(payload.partition, BigInt(payload.lastOffset) + 1n);
    });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (reader.keep(batch.partition)) {
          let values = reader.#values.get(batch.partition);
          if (values === undefined) reader.#values.set(batch.partition, (values = new Map()));
          for (const message of batch.messages) {
            if (message.key === null) continue;
            const key = message.key.toString("utf8");
            if (message.value === null) values.delete(key);
            else values.set(key, { value: message.value.toString("utf8"), timestamp: Number(message.timestamp) });
          }
        }
        reader.#advance(batch.partition, BigInt(batch.lastOffset()) + 1n);
      },
    });
    return reader;
  }

  /** The latest values of `partition` (empty when it has none). */
  values(partition: number): Map<string, ChangelogEntry> {
    return this.#values.get(partition) ?? new Map();
  }

  /** Every held partition's value of `key`, newest first. */
  lookup(key: string): Array<ChangelogEntry & { partition: number }> {
    const found: Array<ChangelogEntry & { partition: number }> = [];
    for (const [partition, values] of this.#values) {
      const entry = values.get(key);
      if (entry !== undefined) found.push({ ...entry, partition });
    }
    return found.sort((a, b) => b.timestamp - a.timestamp);
  }

  /**
   * Waits until the reader has read each of `partitions` up to the log end `admin` reports now;
   * false when `timeoutMs` passed first. Every partition when `partitions` is undefined.
   */
  async catchUp(admin: Admin, partitions: readonly number[] | undefined, timeoutMs: number): Promise<boolean> {
    const ends = (await admin.fetchTopicOffsets(this.topic)).filter((p) => partitions === undefined || partitions.includes(p.partition));
    const reached = () => ends.every((end) => BigInt(end.high) <= BigInt(end.low) || (this.#positions.get(end.partition) ?? -1n) >= BigInt(end.high));
    const until = Date.now() + timeoutMs;
    while (!reached()) {
      const left = until - Date.now();
      if (left <= 0 || this.#stopped) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(left, 1_000));
        function done() {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
    return true;
  }

  async stop(admin?: Admin): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const wake of this.#waiters) wake();
    await this.consumer.disconnect().catch(() => undefined);
    await admin?.deleteGroups([this.groupId]).catch((error: unknown) => log.debug({ err: error, groupId: this.groupId }, "deleting a state reader's group failed"));
  }

  #advance(partition: number, position: bigint): void {
    if (position <= (this.#positions.get(partition) ?? -1n)) return;
    this.#positions.set(partition, position);
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }
}
