import type { Consumer } from "kafkajs";
import { describe, expect, it } from "vitest";
import { FlowControl } from "./flow-control.js";
import { PartitionWork } from "./partition-work.js";

describe("FlowControl", () => {
  it("pauses and resumes only what changed", () => {
    const calls: string[] = [];
    const consumer = {
      pause: (list: { topic: string; partitions: number[] }[]) => calls.push(`pause ${JSON.stringify(list)}`),
      resume: (list: { topic: string; partitions: number[] }[]) => calls.push(`resume ${JSON.stringify(list)}`),
    } as unknown as Consumer;
    const flow = new FlowControl(consumer);
    const works = [new PartitionWork("t", 0, "partition"), new PartitionWork("t", 1, "partition")];
    flow.apply(works, (w) => w.partition === 0);
    flow.apply(works, (w) => w.partition === 0);
    flow.apply(works, () => false);
    expect(calls).toEqual(['pause [{"topic":"t","partitions":[0]}]', 'resume [{"topic":"t","partitions":[0]}]']);
  });

  it("does not throw while kafkajs' consumer is between a crash and its restart", () => {
    const notRunning = () => {
      throw new Error("Consumer group was not initialized, consumer#run must be called first");
    };
    const flow = new FlowControl({ pause: notRunning, resume: notRunning } as unknown as Consumer);
    const works = [new PartitionWork("t", 0, "partition")];
    expect(() => flow.apply(works, () => true)).not.toThrow();
    expect(() => flow.reset(works)).not.toThrow();
  });
});
