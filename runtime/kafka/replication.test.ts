import { describe, expect, it } from "vitest";
import { topicReplication } from "./replication.js";

describe("topicReplication", () => {
  it.each([
    [1, 1, 1],
    [2, 2, 1],
    [3, 3, 2],
    [5, 3, 2],
  ])("on %i brokers: %i copies, %i in sync", (brokers, replicationFactor, minInsyncReplicas) => {
    expect(topicReplication(brokers)).toEqual({ replicationFactor, minInsyncReplicas });
  });
});
