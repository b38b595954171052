// Helpers shared by the dispatcher's integration tests (real broker, real `eddy start`).
import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { randomBytes, randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { Partitioners, type Consumer, type KafkaMessage } from "kafkajs";
import { expect } from "vitest";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { ensureTopic as ensureTopicOnce, eventually, testKafka } from "../helpers/kafka.js";

export { eventually };

/**
 * Creates a topic if it is missing. Retried: kafkajs' admin sometimes fails right after creating a
 * topic ("This server does not host this topic-partition") while its metadata settles, which
 * happens when tests create topics side by side.
 */
export async function ensureTopic(topic: string, partitions = 3): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ensureTopicOnce(topic, partitions);
      return;
    } catch (error) {
      if (attempt >= 5) throw error;
      await sleep(200 * attempt);
    }
  }
}

/** A name no other test (or earlier run on the same broker) uses. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString("hex")}`;
}

/** An Eddy with its own data dir and topic prefix (so its registry holds only this file's functions). */
export async function startEddy(prefix: string, extraEnv: Record<string, string> = {}): Promise<EddyProcess> {
  return EddyProcess.start({ EDDY_DATA_DIR: await tempDir(`eddy-${prefix}`), EDDY_TOPIC_PREFIX: `${prefix}.`, ...extraEnv });
}

/**
 * One replica, whatever the lag: these tests count what one group member (or two Eddys' members) does
 * through kills and rebalances, so the scaler must not add members of its own (it has its own tests).
 */
export const ONE_REPLICA = { scaling: { minReplicas: 1, maxReplicas: 1 } };

/** Deploys a function's source and returns its version; fails the test on anything but 201. */
export async function deploy(eddy: EddyProcess, source: string, env?: Record<string, string>): Promise<number> {
  const answer = await eddy.api("POST", "/v1/functions", { source, config: ONE_REPLICA, ...(env ? { env } : {}) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body.version as number;
}

/** Stops an Eddy; with EDDY_TEST_LOGS=<dir> set, keeps its log (workers included) there for a look afterwards. */
export async function stopEddy(eddy: EddyProcess | undefined, prefix: string): Promise<void> {
  if (!eddy) return;
  await eddy.stop();
  const dir = process.env.EDDY_TEST_LOGS;
  if (dir) await writeFile(`${dir}/${prefix}.log`, eddy.logs);
}

export async function functionStatus(eddy: EddyProcess, name: string): Promise<any> {
  return (await eddy.api("GET", `/v1/functions/${name}`)).body;
}

/** Waits until the function's worker is up (ready in status). */
export async function waitReady(eddy: EddyProcess, name: string, timeoutMs = 30_000): Promise<void> {
  expect(await eventually(async () => (await functionStatus(eddy, name)).replicas?.ready === 1, timeoutMs)).toBe(true);
}

export interface TestMessage {
  key: string | null;
  value: string;
  partition?: number;
  headers?: Record<string, string>;
}

export async function produceMessages(topic: string, messages: TestMessage[]): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
  } finally {
    await producer.disconnect();
  }
}

/** Produces as a live stream would: `chunk` records every `everyMs`; `onChunk` runs after each (e.g. to kill a worker). */
export async function producePaced(
  topic: string,
  messages: TestMessage[],
  chunk: number,
  everyMs: number,
  onChunk: (sent: number) => Promise<void> | void = () => undefined,
): Promise<void> {
  const producer = testKafka().producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + chunk) });
      await onChunk(Math.min(messages.length, i + chunk));
      await sleep(everyMs);
    }
  } finally {
    await producer.disconnect();
  }
}

/** Reads a topic from the beginning in the background (read_committed) and keeps every record. */
export class LiveReader {
  readonly messages: (KafkaMessage & { partition: number })[] = [];

  private constructor(private readonly consumer: Consumer) {}

  static async start(topic: string, partitions = 3): Promise<LiveReader> {
    await ensureTopic(topic, partitions);
    const consumer = testKafka().consumer({ groupId: `eddy-test-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
    const reader = new LiveReader(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const message of batch.messages) reader.messages.push({ ...message, partition: batch.partition });
      },
    });
    return reader;
  }

  get count(): number {
    return this.messages.length;
  }

  /** Waits until at least `count` records arrived, then `settleMs` more so that extra ones (duplicates) show too. */
  async waitFor(count: number, timeoutMs: number, settleMs = 0): Promise<void> {
    await eventually(async () => this.count >= count, timeoutMs, 100);
    expect(this.count, "records read before the deadline").toBeGreaterThanOrEqual(count);
    if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  }

  json<T>(): T[] {
    return this.messages.map((m) => JSON.parse(m.value!.toString()) as T);
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

/** Committed offsets of a group on a topic, by partition (absent: nothing committed). */
export async function committedOffsets(groupId: string, topic: string): Promise<Map<number, bigint>> {
  const admin = testKafka().admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return new Map((offsets?.partitions ?? []).filter((p) => p.offset !== "-1").map((p) => [p.partition, BigInt(p.offset)]));
  } finally {
    await admin.disconnect();
  }
}

/** The pids of the children of an `eddy start` whose command line holds `marker`. */
async function childrenRunning(eddy: EddyProcess, marker: string): Promise<number[]> {
  try {
    const { stdout } = await promisify(execFile)("pgrep", ["-P", String(eddy.child.pid), "-f", marker]);
    return stdout.split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** The pids of the worker processes an `eddy start` forked (children running worker-main). */
export function workerPids(eddy: EddyProcess): Promise<number[]> {
  return childrenRunning(eddy, "worker-main");
}

/** The pids of the standby workers an `eddy start` keeps booted ahead of need (children running standby-main, no function yet). */
export function standbyPids(eddy: EddyProcess): Promise<number[]> {
  return childrenRunning(eddy, "standby-main");
}

/** kill -9 of the function's worker (the one worker not in `others`, the workers of other functions); returns its pid. */
export async function killWorker(eddy: EddyProcess, others: number[] = []): Promise<number> {
  const pids = (await workerPids(eddy)).filter((pid) => !others.includes(pid));
  expect(pids).toHaveLength(1);
  process.kill(pids[0]!, "SIGKILL");
  return pids[0]!;
}

/** Counts of a run: how many distinct records came out, and how many more times than once. */
export function tally(keys: string[]): { distinct: number; duplicates: number } {
  const distinct = new Set(keys).size;
  return { distinct, duplicates: keys.length - distinct };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
