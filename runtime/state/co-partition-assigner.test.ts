import { AssignerProtocol } from "kafkajs";
import { describe, expect, it } from "vitest";
import { CoPartitionAssigner } from "./co-partition-assigner.js";

/** The assignment of `partitions` per topic over `members`, decoded. */
async function assign(members: string[], partitions: Record<string, number>): Promise<Record<string, Record<string, number[]>>> {
  const cluster = { findTopicPartitionMetadata: (topic: string) => Array.from({ length: partitions[topic]! }, (_, partitionId) => ({ partitionId })) };
  const assigner = CoPartitionAssigner({ cluster } as never);
  const result = await assigner.assign({ members: members.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })), topics: Object.keys(partitions) } as never);
  return Object.fromEntries(result.map(({ memberId, memberAssignment }) => [memberId, AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment]));
}

describe("CoPartitionAssigner", () => {
  it("gives partition p of every topic to the same member, round-robin over the members", async () => {
    expect(await assign(["m-2", "m-1"], { customers: 3, orders: 3 })).toEqual({
      "m-1": { customers: [0, 2], orders: [0, 2] },
      "m-2": { customers: [1], orders: [1] },
    });
  });

  it("keeps co-partitioning when a topic has more partitions than another", async () => {
    expect(await assign(["a", "b"], { small: 2, large: 4 })).toEqual({
      a: { small: [0], large: [0, 2] },
      b: { small: [1], large: [1, 3] },
    });
  });
});
