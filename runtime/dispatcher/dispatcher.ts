import { Partitioners, type Consumer, type EachBatchPayload, type Kafka, type KafkaMessage, type Producer } from "kafkajs";
import { deadLetterTopic } from "../config/function-config.js";
import type { FunctionRecord } from "../config/function-record.js";
import { nextOffset } from "../kafka/client.js";
import { log } from "../log.js";
import type { EmittedRecord, FunctionSandbox, SandboxRecord, SerializedError } from "../sandbox/function-sandbox.js";
import { backoffDelayMs } from "./backoff.js";
import { deadLetterMessage } from "./dead-letter.js";
import type { StatsRecorder } from "./stats.js";

export interface DispatcherOptions {
  kafka: Kafka;
  record: FunctionRecord;
  groupId: string;
  sandbox: FunctionSandbox;
  stats: StatsRecorder;
}

/** Raised to abandon a batch when the replica stops or loses the partition: nothing past it is committed. */
class DispatchAbandoned extends Error {}

/**
 * Consumes a function's topics as one member of its consumer group and runs each record through the sandbox.
 *
 * First cut (the dispatcher issue deepens it): records of a partition run in offset order, in batches of
 * `batch.maxSize`; a failed record is retried with backoff and then dead-lettered; the offset is committed
 * only after the records below it finished (succeeded with their emits acked, or dead-lettered with acks).
 */
export class Dispatcher {
  private readonly consumer: Consumer;
  private readonly producer: Producer;
  private readonly dlt: string | null;

  constructor(private readonly options: DispatcherOptions) {
    const { config } = options.record;
    // A slow invocation does not heartbeat, so the session must outlast the longest one.
    const sessionTimeout = Math.max(30_000, config.timeoutMs + 15_000);
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout,
      rebalanceTimeout: sessionTimeout * 2,
      heartbeatInterval: 3_000,
      // kafkajs waits up to 5 s for data by default; a lone record must not wait that long.
      maxWaitTimeInMs: Math.max(config.batch.maxWaitMs, 50),
      retry: { retries: 10 },
    });
    this.producer = options.kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    this.dlt = deadLetterTopic(config);
  }

  async start(): Promise<void> {
    const { config } = this.options.record;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: config.topics, fromBeginning: config.startFrom === "earliest" });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 16,
      eachBatch: (payload) => this.consumeBatch(payload),
    });
  }

  /** Stops fetching, lets the batch in flight finish or abandon, and leaves the group. */
  async stop(): Promise<void> {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }

  private async consumeBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, isRunning, isStale, resolveOffset, heartbeat } = payload;
    const { maxSize } = this.options.record.config.batch;
    try {
      for (let start = 0; start < batch.messages.length; start += maxSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(start, start + maxSize);
        await this.processUntilFinished(chunk.map((m) => toSandboxRecord(batch.topic, batch.partition, m)), payload);
        const last = chunk[chunk.length - 1]!;
        resolveOffset(last.offset);
        // Every record up to `last` has finished: committing the offset after it cannot skip unfinished work.
        await this.consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset(last.offset) }]);
        await heartbeat();
      }
    } catch (error) {
      if (error instanceof DispatchAbandoned) return;
      throw error;
    }
  }

  /** Runs records until each has succeeded or been dead-lettered; throws DispatchAbandoned when stopped. */
  private async processUntilFinished(records: SandboxRecord[], payload: EachBatchPayload): Promise<void> {
    const { record: fn, stats, sandbox } = this.options;
    const { config } = fn;
    // `handle` runs records one after another: after a failure, the rest of the batch has not really run.
    const sequential = fn.handler === "handle";
    const failedAttempts = new Map<SandboxRecord, number>();
    let pending = records;
    while (pending.length > 0) {
      if (!payload.isRunning() || payload.isStale()) throw new DispatchAbandoned();
      const attempt = (failedAttempts.get(pending[0]!) ?? 0) + 1;
      const result = await sandbox.invoke(pending, { attempt, timeoutMs: config.timeoutMs });
      stats.recordInvocation(result.durationMs);
      await this.produceReliably(
        result.emitted.map((e) => ({ topic: e.topic, messages: [toMessage(e)] })),
        payload,
      );

      const next: SandboxRecord[] = [];
      let retryDelayMs = -1;
      let failureSeen = false;
      for (const [index, outcome] of result.outcomes.entries()) {
        const record = pending[index]!;
        if (outcome.status === "ok") {
          stats.add({ processed: 1 });
          continue;
        }
        // A reset is another invocation's timeout tearing down the shared isolate: not this record's attempt.
        if (outcome.status === "skipped" || (sequential && failureSeen) || outcome.error.code === "EDDY_SANDBOX_RESET") {
          next.push(record);
          continue;
        }
        failureSeen = true;
        const attempts = (failedAttempts.get(record) ?? 0) + 1;
        failedAttempts.set(record, attempts);
        stats.add({ failed: 1 });
        log.warn(
          { function: fn.name, topic: record.topic, partition: record.partition, offset: record.offset, attempt: attempts, error: outcome.error },
          "invocation failed",
        );
        const exhausted = !outcome.error.retriable || attempts >= config.retry.maxAttempts;
        if (exhausted && this.dlt !== null) {
          await this.deadLetter(record, outcome.error, attempts, payload);
          continue;
        }
        stats.add({ retried: 1 });
        next.push(record);
        retryDelayMs = Math.max(retryDelayMs, outcome.error.retryAfterMs ?? backoffDelayMs(config.retry.backoff, attempts));
      }
      if (retryDelayMs >= 0) await this.wait(retryDelayMs, payload);
      pending = next;
    }
  }

  private async deadLetter(record: SandboxRecord, error: SerializedError, attempts: number, payload: EachBatchPayload): Promise<void> {
    const { record: fn, groupId, stats } = this.options;
    const message = deadLetterMessage(record, error, attempts, {
      functionName: fn.name,
      functionVersion: fn.version,
      consumerGroup: groupId,
    });
    await this.produceReliably([{ topic: this.dlt!, messages: [message] }], payload);
    stats.add({ deadLettered: 1 });
    log.warn({ function: fn.name, topic: record.topic, partition: record.partition, offset: record.offset, dlt: this.dlt }, "record dead-lettered");
  }

  /** Produces with acks from all in-sync replicas, retrying until it succeeds or the replica stops. */
  private async produceReliably(
    topicMessages: { topic: string; messages: ReturnType<typeof toMessage>[] }[],
    payload: EachBatchPayload,
  ): Promise<void> {
    if (topicMessages.length === 0) return;
    for (let failures = 0; ; failures += 1) {
      try {
        await this.producer.sendBatch({ acks: -1, topicMessages });
        return;
      } catch (error) {
        log.error({ err: error, function: this.options.record.name, failures }, "producing failed; retrying");
        await this.wait(Math.min(5_000, 100 * 2 ** failures), payload);
      }
    }
  }

  /** Waits while keeping the group membership alive; abandons the batch when the replica stops. */
  private async wait(ms: number, payload: EachBatchPayload): Promise<void> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      if (!payload.isRunning() || payload.isStale()) throw new DispatchAbandoned();
      await new Promise((resolve) => setTimeout(resolve, Math.min(500, until - Date.now())));
      await payload.heartbeat();
    }
  }
}

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return headerText(value[value.length - 1]);
  return typeof value === "string" ? value : value.toString("utf8");
}

function toSandboxRecord(topic: string, partition: number, message: KafkaMessage): SandboxRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
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

function toMessage(emitted: EmittedRecord): { key: string | null; value: Buffer | null; headers: Record<string, string> } {
  const value = emitted.value === null ? null : Buffer.from(emitted.value.buffer, emitted.value.byteOffset, emitted.value.byteLength);
  return { key: emitted.key, value, headers: emitted.headers };
}
