import type { Kafka } from "kafkajs";
import { describe, expect, it } from "vitest";
import type { SandboxRecord } from "../sandbox/function-sandbox.js";
import { PartitionWork, type PendingRecord } from "./partition-work.js";
import { TransactionalSink } from "./transactional-sink.js";

/** What a committed transaction held: the emitted values and the offsets sent with them. */
interface Committed {
  values: string[];
  offsets: string[];
}

/**
 * A transactional producer that keeps what each committed transaction held; a commit waits for
 * `gate` when one is set, so a test can act while a transaction is in flight.
 */
function fakeKafka() {
  const committed: Committed[] = [];
  let gate: Promise<void> | undefined;
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    transaction: async () => {
      const held: Committed = { values: [], offsets: [] };
      return {
        sendBatch: async ({ topicMessages }: { topicMessages: { messages: { value: string }[] }[] }) => {
          for (const { messages } of topicMessages) held.values.push(...messages.map((m) => m.value));
        },
        sendOffsets: async ({ topics }: { topics: { topic: string; partitions: { partition: number; offset: string }[] }[] }) => {
          for (const { topic, partitions } of topics) held.offsets.push(...partitions.map((p) => `${topic}/${p.partition}@${p.offset}`));
        },
        commit: async () => {
          await gate;
          committed.push(held);
        },
        abort: async () => undefined,
      };
    },
  };
  const kafka = { producer: () => producer } as unknown as Kafka;
  return {
    kafka,
    committed,
    /** Holds every commit until the returned function is called. */
    block: (): (() => void) => {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
  };
}

function record(partition: number, offset: number): SandboxRecord {
  return { topic: "in", partition, offset: String(offset), timestamp: 0, key: null, value: null, headers: {} };
}

/** A partition with records 0…count-1 fetched, its offset 0 committed. */
function partition(number: number, count: number): PartitionWork {
  const work = new PartitionWork("in", number, "partition");
  work.accept(Array.from({ length: count }, (_, offset) => record(number, offset)), BigInt(count - 1), 0);
  work.committed = 0n;
  return work;
}

/** The dispatch of one record of `work`, emitting `value`. */
function done(work: PartitionWork, offset: number, value: string) {
  const pending = { record: record(work.partition, offset), offset: BigInt(offset), lane: "", arrivedAt: 0, failedAttempts: 0 } as PendingRecord;
  return { work, finished: [pending], messages: [{ topic: "out", messages: [{ key: null, value }] }] };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe("TransactionalSink across a rebalance", () => {
  it("commits what finished before the rejoin, then nothing until the assignment, and drops a lost partition's dispatches", async () => {
    const { kafka, committed, block } = fakeKafka();
    const p0 = partition(0, 3);
    const p1 = partition(1, 3);
    const works = new Set([p0, p1]);
    const sink = new TransactionalSink({ kafka, groupId: "g", transactionalId: "t", functionName: "f", works: () => works, onFatal: () => undefined });
    await sink.start();

    // A transaction is in flight when the group starts to rebalance; a dispatch finishes meanwhile.
    const release = block();
    const first = sink.complete(done(p1, 0, "p1-0"));
    await tick();
    const rejoin = sink.beforeRejoin();
    const second = sink.complete(done(p1, 1, "p1-1"));
    release();
    await rejoin;
    expect(await first).toBe(true);
    expect(await second).toBe(true);
    expect(committed).toEqual([
      { values: ["p1-0"], offsets: ["in/1@1"] },
      { values: ["p1-1"], offsets: ["in/1@2"] },
    ]);

    // Rejoined, the assignment not known yet: whatever finishes now waits.
    const lost = sink.complete(done(p1, 2, "p1-2"));
    const kept = sink.complete(done(p0, 0, "p0-0"));
    await tick();
    expect(committed).toHaveLength(2);

    // The assignment moves partition 1 away: its dispatch is dropped, never written; partition 0's commits.
    p1.revoke();
    works.delete(p1);
    sink.assignmentKnown();
    expect(await lost).toBe(false);
    expect(await kept).toBe(true);
    expect(committed.slice(2)).toEqual([{ values: ["p0-0"], offsets: ["in/0@1"] }]);
    await sink.stop();
  });

  it("resolves dispatches still held when it stops during a rebalance, writing none of them", async () => {
    const { kafka, committed } = fakeKafka();
    const p0 = partition(0, 1);
    const sink = new TransactionalSink({ kafka, groupId: "g", transactionalId: "t", functionName: "f", works: () => [p0], onFatal: () => undefined });
    await sink.start();
    await sink.beforeRejoin();
    const held = sink.complete(done(p0, 0, "p0-0"));
    await sink.stop();
    expect(await held).toBe(false);
    expect(committed).toEqual([]);
  });
});
