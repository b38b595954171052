import type { Admin, ITopicConfig } from "kafkajs";

/**
 * How a topic is replicated on a cluster of `brokers` brokers: three copies once there are three
 * brokers, two of which must acknowledge a write (`acks: all`), so that one broker can fail without
 * losing an acknowledged record or stopping writes; below three, as many copies as there are brokers.
 *
 * @example
 * topicReplication(3) // { replicationFactor: 3, minInsyncReplicas: 2 }
 * topicReplication(1) // { replicationFactor: 1, minInsyncReplicas: 1 }
 */
export function topicReplication(brokers: number): { replicationFactor: number; minInsyncReplicas: number } {
  const replicationFactor = Math.max(1, Math.min(3, brokers));
  return { replicationFactor, minInsyncReplicas: replicationFactor >= 3 ? 2 : 1 };
}

/**
 * The replication settings of a topic Eddy creates, for the cluster `admin` talks to (its broker count
 * from DescribeCluster). `min.insync.replicas` is set only at three copies; below, the cluster's own
 * default stands.
 *
 * @example
 * await admin.createTopics({ topics: [{ topic, ...(await replicatedTopic(admin)) }] });
 */
export async function replicatedTopic(admin: Admin): Promise<Pick<ITopicConfig, "replicationFactor" | "configEntries">> {
  const { brokers } = await admin.describeCluster();
  const { replicationFactor, minInsyncReplicas } = topicReplication(brokers.length);
  const configEntries = replicationFactor >= 3 ? [{ name: "min.insync.replicas", value: String(minInsyncReplicas) }] : [];
  return { replicationFactor, configEntries };
}
