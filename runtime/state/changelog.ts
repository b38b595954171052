import type { Admin } from "kafkajs";
import type { StateWrite } from "../sandbox/function-sandbox.js";
import type { TopicMessages } from "../dispatcher/kafka-records.js";
import { createTopicsAndWait } from "../kafka/topics.js";
import { replicatedTopic } from "../kafka/replication.js";
import { log } from "../log.js";

/** The compacted topic that holds a function's state: `<name>.state`, next to its `<name>.dlt`. */
export function stateTopic(functionName: string): string {
  return `${functionName}.state`;
}

/**
 * Creates the changelog topic, or grows it: compacted, replicated like Eddy's own topics, with as many
 * partitions as the function's largest source topic, so that source partition p keeps its state in
 * changelog partition p (co-partitioned).
 */
export async function ensureStateTopic(admin: Admin, functionName: string, sourceTopics: readonly string[]): Promise<string> {
  const topic = stateTopic(functionName);
  const { topics } = await admin.fetchTopicMetadata({ topics: [...sourceTopics] });
  const partitions = Math.max(1, ...topics.map((t) => t.partitions.length));
  const counts = new Set(topics.map((t) => t.partitions.length));
  if (counts.size > 1) {
    // Kafka Streams refuses this: a key hashes to different partition numbers, so its records on two topics meet no common state.
    log.warn(
      { function: functionName, partitions: Object.fromEntries(topics.map((t) => [t.name, t.partitions.length])) },
      "the function's source topics have different partition counts: a key's records on them land in different partitions and do not share state; give them the same count",
    );
  }
  const existing = new Set(await admin.listTopics());
  if (!existing.has(topic)) {
    const replication = await replicatedTopic(admin);
    await createTopicsAndWait(admin, [
      {
        topic,
        numPartitions: partitions,
        replicationFactor: replication.replicationFactor,
        configEntries: [
          ...(replication.configEntries ?? []),
          { name: "cleanup.policy", value: "compact" },
          // A restore reads the log: Kafka never compacts the active segment (1 GiB or 7 days by default), so
          // segments roll hourly or at 64 MiB and are cleaned at 10 % dirty, keeping a restore near one record a key.
          { name: "segment.ms", value: "3600000" },
          { name: "segment.bytes", value: String(64 * 1024 * 1024) },
          { name: "min.cleanable.dirty.ratio", value: "0.1" },
        ],
      },
    ]);
    return topic;
  }
  const [metadata] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics;
  if ((metadata?.partitions.length ?? 0) < partitions) await admin.createPartitions({ topicPartitions: [{ topic, count: partitions }] });
  return topic;
}

/** The changelog records of `writes` in source partition `partition`: the key's JSON, or a tombstone for a delete. */
export function changelogMessages(topic: string, partition: number, writes: readonly StateWrite[]): TopicMessages[] {
  if (writes.length === 0) return [];
  return [
    {
      topic,
      messages: writes.map((w) => ({ key: w.key, value: w.value === null ? null : Buffer.from(w.value), headers: {}, partition })),
    },
  ];
}
