import type { Admin } from "kafkajs";
import { retryRetriable } from "../kafka/retry-retriable.js";
import type { LoadSample } from "./load-sample.js";
import { partitionLag, type PartitionLag } from "./partition-lag.js";

/** One reading of a group: the sample the decider uses, plus the per-partition detail for status. */
export interface GroupReading {
  sample: Omit<LoadSample, "ready">;
  partitions: PartitionLag[];
}

/**
 * Reads a function's committed offsets and log ends with the admin client: no consumer, no group
 * membership, so it works at zero replicas and never triggers a rebalance.
 */
export async function readGroup(
  admin: Admin,
  groupId: string,
  topics: string[],
  startFrom: "earliest" | "latest",
  now: () => number = Date.now,
): Promise<GroupReading> {
  // Log ends first: a commit landing between the two reads can then only make lag look smaller, never
  // negative (partitionLag clamps anyway).
  const ends = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
  const committed = await retryRetriable(() => admin.fetchOffsets({ groupId, topics }));
  const at = now();
  const byTopic = new Map(committed.map((c) => [c.topic, new Map(c.partitions.map((p) => [p.partition, p.offset]))]));
  const partitions: PartitionLag[] = [];
  for (const { topic, offsets } of ends) {
    for (const end of offsets) {
      const offset = byTopic.get(topic)?.get(end.partition) ?? "-1";
      partitions.push(partitionLag(topic, end.partition, { committed: offset, low: end.low, high: end.high }, startFrom));
    }
  }
  partitions.sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  return {
    sample: {
      at,
      lag: partitions.reduce((sum, p) => sum + p.lag, 0),
      endOffsets: Number(partitions.reduce((sum, p) => sum + p.end, 0n)),
      committed: Number(partitions.reduce((sum, p) => sum + p.position, 0n)),
      partitions: partitions.length,
      laggingPartitions: partitions.filter((p) => p.lag > 0).length,
    },
    partitions,
  };
}

/** Which of `topics` the cluster does not have (asked when a read failed: a deleted topic is told from an unreachable broker). */
export async function missingTopics(admin: Admin, topics: string[]): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  return topics.filter((topic) => !existing.has(topic));
}
