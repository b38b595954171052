import { Partitioners, type Consumer, type Kafka, type Producer } from "kafkajs";
import { log } from "../log.js";
import { kafkaErrorType } from "./errors.js";
import type { TopicMessages } from "./kafka-records.js";
import { markCommitted, offsetsToCommit, sleep, type CompletedWork, type OwnedWorks, type RecordSink } from "./record-sink.js";

const COMMIT_RETRY_MS = 500;
const COMMIT_INTERVAL_MS = 20;

export interface AtLeastOnceSinkOptions {
  kafka: Kafka;
  consumer: Consumer;
  functionName: string;
  works: OwnedWorks;
  /** Creates topics a write found missing (the dead-letter topic may have been deleted). */
  ensureTopics: (topics: string[]) => Promise<void>;
}

/**
 * At-least-once delivery: a dispatch's emits and dead-letter copies are produced by an idempotent
 * producer with acks from all in-sync replicas, retried until they are written (never skipped);
 * only then are its records finished, and the contiguous watermark is committed. A crash
 * between the write and the commit redelivers those records: duplicates, never losses.
 */
export class AtLeastOnceSink implements RecordSink {
  readonly #producer: Producer;
  #committing: Promise<void> | undefined;
  #again = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #intervalTimer: NodeJS.Timeout | undefined;
  #lastCommitAt = 0;
  #stopped = false;

  constructor(private readonly options: AtLeastOnceSinkOptions) {
    this.#producer = options.kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  }

  async start(): Promise<void> {
    await this.#producer.connect();
  }

  async complete({ work, finished, messages }: CompletedWork): Promise<boolean> {
    if (messages.length > 0 && !(await this.#produce(messages, () => work.revoked))) return false;
    // The messages are acknowledged by every in-sync replica: these records may now be committed past.
    for (const record of finished) work.markDone(record);
    this.requestCommit();
    return true;
  }

  requestCommit(): void {
    if (this.#stopped) return;
    if (this.#committing) {
      this.#again = true;
      return;
    }
    // Under load every finished invocation asks for a commit: one at most every COMMIT_INTERVAL_MS
    // carries them all (a crash redelivers at most that much more; flush() commits at once).
    const wait = this.#lastCommitAt + COMMIT_INTERVAL_MS - Date.now();
    if (wait > 0) {
      this.#intervalTimer ??= setTimeout(() => {
        this.#intervalTimer = undefined;
        this.requestCommit();
      }, wait);
      return;
    }
    this.#lastCommitAt = Date.now();
    this.#committing = this.#commitLoop().finally(() => {
      this.#committing = undefined;
      // Asked again while committing: the next commit comes after the interval.
      if (this.#again && !this.#stopped) this.requestCommit();
    });
  }

  async flush(): Promise<void> {
    while (this.#committing) await this.#committing;
    await this.#commitOnce();
  }

  /** A commit during the rebalance is refused by the group (its generation is over), so nothing needs holding. */
  beforeRejoin(): Promise<void> {
    return this.flush();
  }

  assignmentKnown(): void {}

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#intervalTimer);
    await this.#producer.disconnect();
  }

  async #commitLoop(): Promise<void> {
    this.#again = false;
    const ok = await this.#commitOnce();
    if (!ok) {
      // During a rebalance the group refuses commits for a moment; the next one carries the same offsets.
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.requestCommit(), COMMIT_RETRY_MS);
    }
  }

  async #commitOnce(): Promise<boolean> {
    const offsets = offsetsToCommit(this.options.works);
    if (offsets.length === 0) return true;
    try {
      await this.options.consumer.commitOffsets(offsets.flatMap(({ topic, partitions }) => partitions.map((p) => ({ topic, ...p }))));
      markCommitted(this.options.works, offsets);
      return true;
    } catch (error) {
      log.debug({ err: error, function: this.options.functionName }, "committing offsets failed; retrying");
      return false;
    }
  }

  /** Produces until acknowledged; false only when `abandoned()` says the partition was lost meanwhile. */
  async #produce(topicMessages: TopicMessages[], abandoned: () => boolean): Promise<boolean> {
    for (let failures = 0; ; failures += 1) {
      try {
        await this.#producer.sendBatch({ acks: -1, topicMessages });
        return true;
      } catch (error) {
        log.error({ err: error, function: this.options.functionName, failures }, "producing results failed; retrying");
        if (kafkaErrorType(error) === "UNKNOWN_TOPIC_OR_PARTITION") {
          await this.options.ensureTopics(topicMessages.map((t) => t.topic)).catch(() => undefined);
        }
        if (abandoned() || this.#stopped) return false;
        await sleep(Math.min(5_000, 100 * 2 ** Math.min(failures, 6)));
        if (abandoned() || this.#stopped) return false;
      }
    }
  }
}
