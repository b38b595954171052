/**
 * The process of one redrive (`POST /v1/functions/:name/redrive`): reads the function's dead-letter topic
 * as the group `<prefix><name>.redrive`, up to the end offsets captured when the redrive started, and runs
 * each record through the function's current version, in the record's original place (topic, partition,
 * offset, timestamp from the `eddy-dlt-original-*` headers). A record that succeeds has its emits produced;
 * one that fails `retry.maxAttempts` times again (or throws NonRetriableError) is dead-lettered again,
 * after the captured end, so a redrive never reads its own output. Offsets are committed record by record,
 * after the record finished, so a stopped redrive resumes where it was.
 */
import { functionEnv } from "../secrets/function-env.js";
import { Partitioners, type KafkaMessage } from "kafkajs";
import { backoffDelayMs } from "../dispatcher/backoff.js";
import { deadLetterMessage } from "../dispatcher/dead-letter.js";
import { createKafka, nextOffset } from "../kafka/client.js";
import { log } from "../log.js";
import { FunctionSandbox, type SandboxRecord, type SerializedError } from "../sandbox/function-sandbox.js";
import type { RedriveRequest, RedriveReport } from "./redrive.js";
import { startTracing } from "../telemetry/start-tracing.js";
import { endSpans, InvocationSpan, startDeadLetterSpan, startSendSpan } from "../telemetry/record-spans.js";

function report(message: RedriveReport): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

const ORIGINAL = "eddy-dlt-original-";

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return headerText(value[value.length - 1]);
  return typeof value === "string" ? value : value.toString("utf8");
}

/** The record as the function first saw it: its original place, and its headers (the eddy-dlt-* ones included). */
function originalRecord(dlt: string, partition: number, message: KafkaMessage): SandboxRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  return {
    topic: headers[`${ORIGINAL}topic`] ?? dlt,
    partition: Number(headers[`${ORIGINAL}partition`] ?? partition),
    offset: headers[`${ORIGINAL}offset`] ?? message.offset,
    timestamp: Number(headers[`${ORIGINAL}timestamp`] ?? message.timestamp),
    key: message.key === null ? null : message.key.toString("utf8"),
    value: message.value,
    headers,
  };
}

async function redrive(request: RedriveRequest): Promise<void> {
  const { record: fn, dlt } = request;
  log.level = request.logLevel;
  const tracing = await startTracing(request.tracing ?? null, { "faas.name": fn.name, "faas.version": String(fn.version), "eddy.process": "redrive" });
  const identity = { name: fn.name, version: fn.version, groupId: request.groupId };
  const sandbox = await FunctionSandbox.create({
    code: fn.code,
    memoryMb: fn.config.memoryMb,
    env: functionEnv(fn, Buffer.from(request.secretKey, "base64")),
    function: { name: fn.name, version: fn.version },
    onLog: (level, message, trace) => void report({ type: "log", source: "function", level, message, ...trace }),
    egress: fn.config.egress,
    topicPrefix: request.topicPrefix,
    state: fn.config.state !== undefined,
  });
  const kafka = createKafka(request.kafka, `eddy-redrive-${fn.name}`);
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  const consumer = kafka.consumer({ groupId: request.groupId, maxWaitTimeInMs: 100, sessionTimeout: Math.max(30_000, fn.config.timeoutMs + 15_000) });
  const remaining = new Map(request.endOffsets.map((e) => [e.partition, BigInt(e.offset)]));
  const counts = { done: 0, succeeded: 0, deadLettered: 0 };
  let finished!: () => void;
  const allDone = new Promise<void>((resolve) => (finished = resolve));

  /** Runs one record to its end: success (emits acked) or dead-lettered again (acked). */
  const runRecord = async (record: SandboxRecord): Promise<void> => {
    let error: SerializedError | undefined;
    let attempts = 0;
    while (attempts < fn.config.retry.maxAttempts) {
      attempts += 1;
      const span = tracing && new InvocationSpan(tracing.tracer, identity, [record], attempts);
      const result = await sandbox.invoke([record], { attempt: attempts, timeoutMs: fn.config.timeoutMs, trace: span });
      const outcome = result.outcomes[0];
      if (outcome?.status === "ok") {
        span?.end([]);
        const byTopic = result.emitted.map((e) => ({
          topic: e.topic,
          messages: [{ key: e.key, value: e.value === null ? null : Buffer.from(e.value), headers: e.headers }],
        }));
        const sends = span?.sendEmits(byTopic) ?? [];
        if (byTopic.length > 0) await producer.sendBatch({ acks: -1, topicMessages: byTopic });
        endSpans(sends);
        counts.succeeded += 1;
        return;
      }
      error = outcome?.status === "failed" ? outcome.error : { name: "Error", message: "the record was not run", retriable: true };
      span?.end([error]);
      if (!error.retriable || attempts >= fn.config.retry.maxAttempts) break;
      await new Promise((resolve) => setTimeout(resolve, error!.retryAfterMs ?? backoffDelayMs(fn.config.retry.backoff, attempts)));
    }
    const message = deadLetterMessage(record, error!, attempts, { functionName: fn.name, functionVersion: fn.version, consumerGroup: request.groupId });
    const deadLetterSpan = tracing && startDeadLetterSpan(tracing.tracer, record, dlt, message);
    await producer.send({ topic: dlt, acks: -1, messages: [message] });
    if (deadLetterSpan) endSpans([deadLetterSpan]);
    counts.deadLettered += 1;
    void report({ type: "log", source: "eddy", level: "warn", message: `redriven record failed again and was dead-lettered: ${record.topic}[${record.partition}]@${record.offset}: ${error!.name}: ${error!.message}` });
  };

  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: dlt, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      for (const message of batch.messages) {
        const end = remaining.get(batch.partition);
        // Past the captured end (or a partition with nothing to redrive): these are for a later redrive.
        if (end === undefined || BigInt(message.offset) >= end) {
          remaining.delete(batch.partition);
          break;
        }
        if (!isRunning() || isStale()) return;
        await runRecord(originalRecord(dlt, batch.partition, message));
        resolveOffset(message.offset);
        await consumer.commitOffsets([{ topic: dlt, partition: batch.partition, offset: nextOffset(message.offset) }]);
        counts.done += 1;
        void report({ type: "progress", ...counts });
        if (BigInt(message.offset) + 1n >= end) remaining.delete(batch.partition);
        await heartbeat();
      }
      const end = remaining.get(batch.partition);
      if (end === undefined) consumer.pause([{ topic: dlt, partitions: [batch.partition] }]);
      if (remaining.size === 0) finished();
    },
  });
  if (remaining.size === 0) finished();
  await allDone;
  await consumer.disconnect();
  await producer.disconnect();
  sandbox.dispose();
  await tracing?.shutdown();
  await report({ type: "done", ...counts });
}

process.once("message", (request: RedriveRequest) => {
  redrive(request)
    .then(() => process.exit(0))
    .catch(async (error: unknown) => {
      log.error({ err: error }, "redrive failed");
      await report({ type: "failed", message: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    });
});
// The control plane going away must not leave a redrive running on its own.
process.on("disconnect", () => process.exit(1));
