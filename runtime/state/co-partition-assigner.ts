import { AssignerProtocol, type PartitionAssigner } from "kafkajs";

/**
 * A kafkajs partition assigner that gives partition p of every source topic to the same member, as
 * Kafka Streams does for co-partitioned topics: a stateful function's records of one key arrive on
 * partition p of each of its topics (same key, same partitioner), and their state lives in changelog
 * partition p, which only one replica may write. Partition numbers go round-robin over the members.
 * Offered before kafkajs' round-robin, which the group falls back to while a member that lacks this
 * one (an older worker during a redeploy) is in it.
 */
export const CoPartitionAssigner: PartitionAssigner = ({ cluster }) => ({
  name: "EddyCoPartitionAssigner",
  version: 0,

  async assign({ members, topics }) {
    const sortedMembers = members.map(({ memberId }) => memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>();
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const member = sortedMembers[partitionId % sortedMembers.length]!;
        const topicsOfMember = assignment.get(member) ?? {};
        (topicsOfMember[topic] ??= []).push(partitionId);
        assignment.set(member, topicsOfMember);
      }
    }
    return [...assignment].map(([memberId, partitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: partitions, userData: Buffer.alloc(0) }),
    }));
  },

  protocol({ topics }) {
    return { name: "EddyCoPartitionAssigner", metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }) };
  },
});
