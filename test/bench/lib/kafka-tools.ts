import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { Kafka, logLevel, type Admin, type Consumer, type KafkaMessage, type Message } from "kafkajs";
import { sleep } from "./progress.js";

/** The bench's own kafkajs client: quiet, loopback only. */
export function benchKafka(brokers: string, clientId = "eddy-bench"): Kafka {
  return new Kafka({ clientId, brokers: brokers.split(","), logLevel: logLevel.NOTHING });
}

/**
 * Creates a topic and waits until every partition has a leader. kafkajs' own `waitForLeaders` can
 * leave an unhandled rejection behind when the broker is slow to know the new topic, so the bench
 * polls the metadata itself.
 */
export async function createTopic(admin: Admin, topic: string, numPartitions: number): Promise<void> {
  if (!(await admin.listTopics()).includes(topic)) {
    await admin.createTopics({ waitForLeaders: false, topics: [{ topic, numPartitions, replicationFactor: 1 }] });
  }
  const until = performance.now() + 30_000;
  for (;;) {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] }).catch(() => null);
    const partitions = metadata?.topics[0]?.partitions ?? [];
    if (partitions.length === numPartitions && partitions.every((p) => p.leader >= 0)) return;
    if (performance.now() > until) throw new Error(`topic ${topic} has no leader for every partition after 30 s`);
    await sleep(50);
  }
}

/**
 * Produces `count` records built by `make`, spread evenly over the partitions, a few requests in
 * flight at a time. Returns once every record is acknowledged.
 */
export async function produceRecords(
  kafka: Kafka,
  topic: string,
  count: number,
  make: (index: number) => Message,
  options: { partitions: number; chunk?: number; inFlight?: number },
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = options.chunk ?? 2_000;
  const inFlight = options.inFlight ?? 4;
  try {
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < count) {
        const from = next;
        const to = Math.min(count, from + chunk);
        next = to;
        const messages: Message[] = [];
        for (let i = from; i < to; i++) messages.push({ ...make(i), partition: i % options.partitions });
        await producer.send({ topic, acks: -1, messages });
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
  } finally {
    await producer.disconnect();
  }
}

/** A printable 100-byte-ish value: the index, padded. */
export function paddedValue(index: number, bytes: number): Buffer {
  const head = `{"i":${index},"p":"`;
  const tail = `"}`;
  return Buffer.from(head + "x".repeat(Math.max(0, bytes - head.length - tail.length)) + tail);
}

/** The sum of a group's committed offsets on a topic (nothing committed counts as 0: bench topics start at 0). */
export async function committedTotal(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
  let sum = 0;
  for (const p of entry?.partitions ?? []) if (p.offset !== "-1") sum += Number(p.offset);
  return sum;
}

export async function endTotal(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high), 0);
}

export interface CommitWatch {
  /** performance.now() of the first poll that saw a member matching `joinedBy` in the group; null if none did. */
  joinedAt: number | null;
  /** performance.now() of the poll that saw everything committed; null if it never did. */
  doneAt: number | null;
  /** The first poll that saw anything committed, and how much: what comes before it (e.g. a state restore) is not steady work. */
  firstCommit: { at: number; committed: number } | null;
  committed: number;
  total: number;
}

/**
 * Polls a group's committed offsets until they reach `total` or the time is up, and its members
 * until one that `joinedBy` accepts is in (the consumer that does the work, not the short-lived
 * member a deploy uses to pin a new group's offsets). Commits are how Eddy, in another process,
 * says "finished": it commits only past finished records.
 */
export async function watchCommits(
  admin: Admin,
  groupId: string,
  topic: string,
  total: number,
  options: {
    timeoutMs: number;
    joinedBy: (clientId: string) => boolean;
    intervalMs?: number;
    onPoll?: (committed: number) => void;
    /** Called once, as soon as the join is seen (before that poll's commit count). */
    onJoined?: (committedBefore: number) => void;
    signal?: AbortSignal;
    /** Says why waiting longer is pointless (e.g. Eddy's worker cannot start); checked on every poll. */
    failFast?: () => string | null;
  },
): Promise<CommitWatch> {
  const intervalMs = options.intervalMs ?? 10;
  const until = performance.now() + options.timeoutMs;
  const watch: CommitWatch = { joinedAt: null, doneAt: null, firstCommit: null, committed: 0, total };
  let lastReport = performance.now();
  while (performance.now() < until && !options.signal?.aborted) {
    if (watch.joinedAt === null) {
      const { groups } = await admin.describeGroups([groupId]).catch(() => ({ groups: [] }));
      const group = groups[0];
      if (group?.state === "Stable" && group.members.some((m) => options.joinedBy(m.clientId))) {
        watch.joinedAt = performance.now();
        options.onJoined?.(watch.committed);
      }
    }
    const committed = await committedTotal(admin, groupId, topic).catch(() => watch.committed);
    const now = performance.now();
    watch.committed = committed;
    if (committed > 0 && watch.firstCommit === null) watch.firstCommit = { at: now, committed };
    if (committed >= total) {
      watch.doneAt = now;
      break;
    }
    const hopeless = options.failFast?.();
    if (hopeless) throw new Error(hopeless);
    if (options.onPoll && now - lastReport > 5_000) {
      lastReport = now;
      options.onPoll(committed);
    }
    // Each poll is two requests to the broker and a turn of the bench's own CPU, both shared with
    // what is measured: from the first commit until 90 % is done poll every 100 ms, else every intervalMs (a precise start and end).
    await sleep(watch.firstCommit !== null && committed < total * 0.9 ? Math.max(intervalMs, 100) : intervalMs);
  }
  return watch;
}

/** A consumer that reads a topic from its beginning and hands every record to `onMessage`. */
export async function startReader(
  kafka: Kafka,
  topic: string,
  onMessage: (message: KafkaMessage, partition: number) => void,
): Promise<Consumer> {
  const consumer = kafka.consumer({ groupId: `bench-reader-${randomUUID()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) onMessage(message, batch.partition);
    },
  });
  await joined;
  return consumer;
}
