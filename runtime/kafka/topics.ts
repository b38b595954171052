import type { Admin, ITopicConfig, Kafka } from "kafkajs";
import { replicatedTopic } from "./replication.js";

/**
 * Creates the topics that do not exist yet, with the cluster's default partitions, and three copies
 * (`min.insync.replicas` 2) on a cluster of three brokers or more, else one per broker.
 */
export async function ensureTopics(admin: Admin, topics: string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = [...new Set(topics)].filter((t) => !existing.has(t));
  if (missing.length === 0) return [];
  const replication = await replicatedTopic(admin);
  await createTopicsAndWait(admin, missing.map((topic) => ({ topic, ...replication })));
  return missing;
}

/**
 * Creates `topics` and resolves once every partition has a leader. On a cluster of several brokers the
 * broker that answers may not know a topic the controller just created: kafkajs' own waitForLeaders then
 * fails with UNKNOWN_TOPIC_OR_PARTITION, so the wait is done here, tolerating that.
 */
export async function createTopicsAndWait(admin: Admin, topics: ITopicConfig[]): Promise<void> {
  try {
    // Waited for below, at a finer step than kafkajs' own wait (its retry backoff added ~0.1 s to each deploy creating a topic).
    await admin.createTopics({ waitForLeaders: false, topics });
  } catch (error) {
    // Right after creating, waitForLeaders' metadata request can still answer UNKNOWN_TOPIC_OR_PARTITION
    // (and another instance may have created the topic first): the topic exists; wait for its leaders below.
    const type = (error as { type?: string }).type;
    if (type !== "UNKNOWN_TOPIC_OR_PARTITION" && type !== "TOPIC_ALREADY_EXISTS") throw error;
  }
  await waitForLeaders(admin, topics.map((t) => t.topic));
}

/** A new topic's partitions usually have leaders within a few tens of ms on a local broker. */
const LEADER_POLL_MS = 20;

async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics });
      if (metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > until) throw error;
    }
    if (Date.now() > until) throw new Error(`topics ${topics.join(", ")} have no leaders after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
  }
}

/**
 * Gives a consumer group that has never committed the end of each topic as its starting point, at once
 * (startFrom "latest"; with "earliest" a group without offsets starts at the log's start anyway).
 * Without this, "latest" would mean "whenever the first worker happens to join", and records produced
 * between a deploy's answer and that moment would be skipped. With it, "latest" means "from the deploy".
 * Topics the group already has offsets for are left alone, so a redeploy never reprocesses.
 */
export async function pinNewGroupOffsets(
  kafka: Kafka,
  admin: Admin,
  groupId: string,
  topics: string[],
): Promise<void> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const offsets: { topic: string; partition: number; offset: string }[] = [];
  for (const { topic, partitions } of committed) {
    if (partitions.some((p) => p.offset !== "-1")) continue;
    for (const end of await admin.fetchTopicOffsets(topic)) {
      offsets.push({ topic, partition: end.partition, offset: end.high });
    }
  }
  if (offsets.length === 0) return;
  await commitAsMember(kafka, groupId, topics, offsets);
  const after = await admin.fetchOffsets({ groupId, topics });
  if (after.some(({ partitions }) => partitions.some((p) => p.offset === "-1"))) {
    throw new Error(`could not commit the starting offsets of consumer group ${groupId}`);
  }
}

/**
 * Commits offsets for a group that has no running members by joining it briefly with every topic paused.
 * (kafkajs' admin.setOffsets does the same, but waits out a full 5 s fetch before it returns.)
 */
export async function commitAsMember(
  kafka: Kafka,
  groupId: string,
  topics: string[],
  offsets: { topic: string; partition: number; offset: string }[],
): Promise<void> {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics });
    // Commit only once the run loop has fetched: before that kafkajs drops commits silently, and stopping
    // earlier leaves that first fetch's connection open.
    const fetched = new Promise<void>((resolve) => consumer.on(consumer.events.FETCH, () => resolve()));
    const crashed = new Promise<never>((_, reject) => {
      // Nothing is resolved or auto-committed, so whatever a fetch might hand over is left untouched.
      consumer.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => {} }).catch(reject);
    });
    consumer.pause(topics.map((topic) => ({ topic })));
    await Promise.race([fetched, crashed]);
    await consumer.commitOffsets(offsets);
  } finally {
    await consumer.disconnect();
  }
}
