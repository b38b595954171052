import { randomUUID } from "node:crypto";
import { Partitioners, type Admin, type Consumer, type Kafka, type Producer } from "kafkajs";
import type { FunctionRecord } from "../config/function-record.js";
import { RegistryState, versionKey, type FunctionEntry } from "./registry-state.js";

export type { FunctionEntry } from "./registry-state.js";

/** Large enough for a bundled function; the broker default (1 MB) is not. */
const MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** Versions kept per function (each holds a bundle); older ones are deleted when a new one is stored. The current one always stays. */
export const MAX_VERSIONS_KEPT = 20;

const SYNC_LIMIT_MS = 30_000;

type ChangeListener = (name: string, entry: FunctionEntry | null) => void;
type Message = { key: string; value: string | null };

/**
 * The deployed functions, kept in a compacted topic with one partition: the log is the registry.
 * Every instance rebuilds its state by reading the topic from the start, then follows it, so a deploy
 * made through another instance reaches this one too.
 *
 * Writes are applied only as they come back from the log, never directly: the log's order is the one
 * truth, and a write answers only once every in-sync replica has it and this instance has read it back.
 */
export class FunctionRegistry {
  private readonly state = new RegistryState();
  private readonly listeners: ChangeListener[] = [];
  /** The next offset the reader will apply. */
  private position = 0n;
  private waiters: { offset: bigint; resolve: () => void }[] = [];

  private constructor(
    private readonly topic: string,
    private readonly admin: Admin,
    private readonly producer: Producer,
    private readonly consumer: Consumer,
  ) {}

  static async open(kafka: Kafka, topic: string): Promise<FunctionRegistry> {
    const admin = kafka.admin();
    await admin.connect();
    await ensureRegistryTopic(admin, topic);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    // A private group that never commits: it always reads the whole log, and the broker forgets it once it is empty.
    const consumer = kafka.consumer({ groupId: `${topic}.reader.${randomUUID()}`, maxWaitTimeInMs: 100 });
    const registry = new FunctionRegistry(topic, admin, producer, consumer);
    await registry.follow();
    await registry.sync();
    return registry;
  }

  private async follow(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.topic, fromBeginning: true });
    await this.consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (message.key) {
          const change = this.state.apply(message.key.toString(), message.value === null ? null : message.value.toString("utf8"));
          if (change) for (const listener of this.listeners) listener(change.name, change.entry);
        }
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

  /** Resolves once the reader has applied every record before `offset`. */
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

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  list(): FunctionRecord[] {
    return this.state.entries().map((e) => e.record);
  }

  entries(): FunctionEntry[] {
    return this.state.entries();
  }

  get(name: string): FunctionRecord | undefined {
    return this.state.entry(name)?.record;
  }

  entry(name: string): FunctionEntry | undefined {
    return this.state.entry(name);
  }

  /** Every stored version of the function, oldest first (empty when it is not deployed). */
  versions(name: string): FunctionRecord[] {
    return this.state.entry(name) ? this.state.history(name) : [];
  }

  nextVersion(name: string): number {
    return this.state.nextVersion(name);
  }

  /** Stores a new version and makes it current (keeping an operator's pause); trims the oldest versions. */
  async put(record: FunctionRecord): Promise<void> {
    const paused = this.state.entry(record.name)?.paused ?? false;
    const messages: Message[] = [
      { key: versionKey(record.name, record.version), value: JSON.stringify(record) },
      { key: record.name, value: JSON.stringify({ version: record.version, paused }) },
    ];
    const older = this.state.history(record.name).filter((r) => r.version !== record.version);
    const current = this.state.entry(record.name)?.record.version;
    for (const old of older.slice(0, Math.max(0, older.length - (MAX_VERSIONS_KEPT - 1)))) {
      if (old.version !== current) messages.push({ key: versionKey(record.name, old.version), value: null });
    }
    await this.write(messages);
  }

  /** Makes a stored version current again. */
  async setCurrent(name: string, version: number): Promise<void> {
    await this.write([{ key: name, value: JSON.stringify({ version, paused: this.state.entry(name)?.paused ?? false }) }]);
  }

  /** Records an operator's pause or resume, so that every instance (and a restarted one) keeps it. */
  async setPaused(name: string, paused: boolean): Promise<void> {
    const entry = this.state.entry(name);
    if (!entry || entry.paused === paused) return;
    await this.write([{ key: name, value: JSON.stringify({ version: entry.record.version, paused }) }]);
  }

  /** Removes a function and its history (tombstones, which compaction eventually erases). The pointer goes first. */
  async remove(name: string): Promise<void> {
    const versions = this.state.history(name).map((r) => ({ key: versionKey(name, r.version), value: null }));
    await this.write([{ key: name, value: null }, ...versions]);
  }

  /** Writes in one request (one partition: all or nothing, in order), acked by every in-sync replica, then waits to read it back. */
  private async write(messages: Message[]): Promise<void> {
    const [result] = await this.producer.send({ topic: this.topic, acks: -1, messages });
    if (result?.baseOffset !== undefined) await this.reach(BigInt(result.baseOffset) + BigInt(messages.length));
    else await this.sync();
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.consumer.disconnect(), this.producer.disconnect(), this.admin.disconnect()]);
  }
}

async function ensureRegistryTopic(admin: Admin, topic: string): Promise<void> {
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
