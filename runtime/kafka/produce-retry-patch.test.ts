import { Kafka } from "kafkajs";
import { describe, expect, it } from "vitest";
import { patchedKafkaClass, patchedSendMessagesModule } from "./produce-retry-patch.js";

type SendMessages = (options: Record<string, unknown>) => (send: Record<string, unknown>) => Promise<unknown[]>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

type TopicData = Array<{ topicName: string; partitions: Array<{ partition: number }> }>;

const notLeader = () => Object.assign(new Error("not the leader"), { name: "KafkaJSProtocolError", type: "NOT_LEADER_FOR_PARTITION", retriable: true });

/** A broker's answer: every partition of the request written. */
const written = (topicData: TopicData) => ({
  topics: topicData.map(({ topicName, partitions }) => ({ topicName, partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: "0" })) })),
});

/**
 * Sends one record to each of partitions 0 and 1 of topic "t" through `createSendMessages`, with `cluster`
 * standing in for kafkajs' (its leaders and brokers), a non-transactional producer that counts sequences,
 * one request per broker at a time (as kafkajs' own lock), and up to 4 attempts.
 */
/** Stands in for kafkajs' eosManager of a non-transactional idempotent producer: producer id 7, a new one per initProducerId. */
function fakeEosManager() {
  let producerId = 7;
  const sequences = new Map<string, number>();
  const locks = new Map<unknown, Promise<void>>();
  const release = new Map<unknown, () => void>();
  return {
    isTransactional: () => false,
    isInitialized: () => true,
    async initProducerId() {
      producerId += 1;
      sequences.clear();
    },
    getTransactionalId: () => undefined,
    getProducerId: () => producerId,
    getProducerEpoch: () => 0,
    getSequence: (topic: string, partition: number) => sequences.get(`${topic}/${partition}`) ?? 0,
    updateSequence: (topic: string, partition: number, by: number) => sequences.set(`${topic}/${partition}`, (sequences.get(`${topic}/${partition}`) ?? 0) + by),
    async acquireBrokerLock(b: unknown) {
      while (locks.has(b)) await locks.get(b);
      locks.set(b, new Promise<void>((resolve) => release.set(b, resolve)));
    },
    async releaseBrokerLock(b: unknown) {
      locks.delete(b);
      release.get(b)?.();
    },
  };
}

/**
 * A send function of `createSendMessages` with `cluster` standing in for kafkajs' (its leaders and
 * brokers), the producer `eosManager`, and up to 4 attempts a send.
 */
function sender(createSendMessages: SendMessages, cluster: Record<string, unknown>, eosManager = fakeEosManager()): (send: Record<string, unknown>) => Promise<unknown[]> {
  const retrier = async (fn: (bail: (e: Error) => never, retryCount: number, retryTime: number) => Promise<unknown[]>) => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn((error) => { throw error; }, attempt, 0);
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  };
  const logger = { debug: () => undefined, error: () => undefined };
  const base = {
    targetTopics: new Set(),
    refreshMetadataIfNecessary: async () => undefined,
    refreshMetadata: async () => undefined,
    addMultipleTargetTopics: async () => undefined,
    isConnected: () => true,
  };
  return createSendMessages({ logger, cluster: { ...base, ...cluster }, partitioner: ({ message }: { message: { partition: number } }) => message.partition, eosManager, retrier });
}

/** Sends one record to each of partitions 0 and 1 of topic "t". */
async function sendTwoRecords(createSendMessages: SendMessages, cluster: Record<string, unknown>): Promise<void> {
  await sender(createSendMessages, cluster)(twoRecords("a", "b"));
}

const twoRecords = (first: string, second: string) => ({
  acks: -1,
  timeout: 1_000,
  topicMessages: [{ topic: "t", messages: [{ value: first, partition: 0 }, { value: second, partition: 1 }] }],
});

/**
 * One broker leads partitions 0 and 1; its connection drops during the first four requests (each may
 * have been written), so the first send fails, and a second send with other records follows. Returns each
 * request's producer id and first sequence number per partition.
 */
async function sendAfterAFailedSend(createSendMessages: SendMessages): Promise<string[]> {
  const requests: string[] = [];
  const broker = {
    nodeId: 1,
    async produce({ producerId, topicData }: { producerId: number; topicData: Array<TopicData[number] & { partitions: Array<{ partition: number; firstSequence: number }> }> }) {
      requests.push(`pid ${producerId}: ${topicData.flatMap(({ partitions }) => partitions.map((p) => `${p.partition}@${p.firstSequence}`)).join(" ")}`);
      if (requests.length <= 4) throw Object.assign(new Error("connection closed"), { name: "KafkaJSConnectionError", retriable: true });
      return written(topicData);
    },
  };
  const send = sender(createSendMessages, {
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: 1 },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 1: partitions }),
    findBroker: async () => broker,
  });
  await expect(send(twoRecords("a", "b"))).rejects.toThrow("connection closed");
  await send(twoRecords("c", "d"));
  return requests;
}

/**
 * One broker leads partitions 0 and 1 and keeps, as Kafka does, the last sequence number each producer
 * wrote per partition, dropping a batch it already holds. Its first request writes partition 0 and
 * refuses partition 1 (its leader was still being elected). Returns how often each record was written.
 */
async function sendWithAPartlyWrittenRequest(createSendMessages: SendMessages): Promise<Record<string, number>> {
  const log: Record<string, number> = {};
  const nextSequence = new Map<string, number>();
  let requests = 0;
  const broker = {
    nodeId: 1,
    async produce({ producerId, topicData }: { producerId: number; topicData: Array<{ partitions: Array<{ partition: number; firstSequence: number; messages: Array<{ value: string }> }> }> }) {
      requests += 1;
      for (const { partitions } of topicData) {
        for (const { partition, firstSequence, messages } of partitions) {
          if (requests === 1 && partition === 1) continue;
          const key = `${producerId}/${partition}`;
          if (firstSequence < (nextSequence.get(key) ?? 0)) continue; // a duplicate of a batch it holds
          nextSequence.set(key, firstSequence + messages.length);
          for (const { value } of messages) log[value] = (log[value] ?? 0) + 1;
        }
      }
      if (requests === 1) throw notLeader();
      return written(topicData as unknown as TopicData);
    },
  };
  await sendTwoRecords(createSendMessages, {
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: 1 },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 1: partitions }),
    findBroker: async () => broker,
  });
  return log;
}

/**
 * Partition 0 led by broker 1, partition 1 by broker 2: broker 1 fails once, quickly, with a retriable
 * error; broker 2 answers slowly. Counts the produce requests each broker received.
 */
async function sendThroughTwoBrokers(createSendMessages: SendMessages): Promise<Record<number, number>> {
  const produced: Record<number, number> = { 1: 0, 2: 0 };
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: TopicData }) {
      produced[nodeId]! += 1;
      if (nodeId === 1 && produced[1] === 1) {
        await sleep(5);
        throw notLeader();
      }
      await sleep(nodeId === 2 ? 60 : 1);
      return written(topicData);
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  await sendTwoRecords(createSendMessages, {
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: 1 },
      { partitionId: 1, leader: 2 },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 1: partitions.filter((p) => p === "0"), 2: partitions.filter((p) => p === "1") }),
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  });
  await sleep(150);
  return produced;
}

/**
 * Partition 0 led by broker 1, partition 1 by broker 2. Broker 1 dies during the first attempt
 * (NOT_LEADER); the metadata refresh then names broker 2 leader of both. Returns the partitions each
 * broker was sent, attempt by attempt.
 */
async function sendWhileLeadershipMoves(createSendMessages: SendMessages): Promise<string[]> {
  const sent: string[] = [];
  let leaderOfZero = 1;
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: TopicData }) {
      sent.push(`${nodeId}:${topicData.flatMap(({ partitions }) => partitions.map(({ partition }) => partition)).join(",")}`);
      if (nodeId === 1) throw notLeader();
      return written(topicData);
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  await sendTwoRecords(createSendMessages, {
    refreshMetadata: async () => void (leaderOfZero = 2),
    findTopicPartitionMetadata: () => [
      { partitionId: 0, leader: leaderOfZero },
      { partitionId: 1, leader: 2 },
    ],
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const byLeader: Record<number, string[]> = {};
      for (const p of partitions) (byLeader[p === "0" ? leaderOfZero : 2] ??= []).push(p);
      return byLeader;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  });
  return sent.sort();
}

describe("the produce retry patch", () => {
  it("sends a dead leader's partitions to their new leader even when it answered an earlier attempt", async () => {
    const patched = patchedSendMessagesModule();
    expect(await sendWhileLeadershipMoves(patched!.exports as SendMessages)).toEqual(["1:0", "2:0", "2:1"]);
  });

  it("fixes what kafkajs 2.2.4 does: the moved partition is never sent, and the send succeeds (the record is lost)", async () => {
    const { createRequire } = await import("node:module");
    const original = createRequire(import.meta.url)("kafkajs/src/producer/sendMessages.js") as SendMessages;
    expect(await sendWhileLeadershipMoves(original)).toEqual(["1:0", "2:1"]);
  });

  it("retries only the broker that failed, never one whose request was still in flight", async () => {
    const patched = patchedSendMessagesModule();
    expect(patched, "kafkajs 2.2.4's sendMessages is patched").not.toBeNull();
    expect(await sendThroughTwoBrokers(patched!.exports as SendMessages)).toEqual({ 1: 2, 2: 1 });
  });

  it("fixes what kafkajs 2.2.4 does: it sends again to the broker still answering (the record is written twice)", async () => {
    const { createRequire } = await import("node:module");
    const original = createRequire(import.meta.url)("kafkajs/src/producer/sendMessages.js") as SendMessages;
    expect(await sendThroughTwoBrokers(original)).toEqual({ 1: 2, 2: 2 });
  });

  it("sends after a failed request under a fresh producer id, never a written batch's sequence numbers with other records", async () => {
    const patched = patchedSendMessagesModule();
    const requests = await sendAfterAFailedSend(patched!.exports as SendMessages);
    expect(requests).toEqual(["pid 7: 0@0 1@0", "pid 7: 0@0 1@0", "pid 7: 0@0 1@0", "pid 7: 0@0 1@0", "pid 8: 0@0 1@0"]);
  });

  it("retries a failed request under the same producer id and sequence numbers, so the broker drops what it already wrote", async () => {
    const patched = patchedSendMessagesModule();
    expect(await sendWithAPartlyWrittenRequest(patched!.exports as SendMessages)).toEqual({ a: 1, b: 1 });
  });

  it("fixes what kafkajs 2.2.4 does: the next send reuses the failed request's sequence numbers (the broker drops it as a duplicate)", async () => {
    const { createRequire } = await import("node:module");
    const original = createRequire(import.meta.url)("kafkajs/src/producer/sendMessages.js") as SendMessages;
    const requests = await sendAfterAFailedSend(original);
    expect(new Set(requests)).toEqual(new Set(["pid 7: 0@0 1@0"]));
    expect(requests).toHaveLength(5);
  });

  it("sends one batch at a time on an idempotent producer, so that no send takes a sequence number another's retry needs", async () => {
    const patched = patchedSendMessagesModule();
    const events: string[] = [];
    const broker = {
      nodeId: 1,
      async produce({ topicData }: { topicData: TopicData }) {
        const values = (topicData as unknown as Array<{ topic: string }>).map(({ topic }) => topic).join();
        events.push(`start ${values}`);
        await sleep(20);
        events.push(`end ${values}`);
        return written(topicData);
      },
    };
    const cluster = {
      findTopicPartitionMetadata: () => [{ partitionId: 0, leader: 1 }],
      findLeaderForPartitions: (_topic: string, partitions: string[]) => ({ 1: partitions }),
      findBroker: async () => broker,
    };
    const send = sender(patched!.exports as SendMessages, cluster);
    const one = (topic: string) => ({ acks: -1, timeout: 1_000, topicMessages: [{ topic, messages: [{ value: "x", partition: 0 }] }] });
    await Promise.all([send(one("a")), send(one("b"))]);
    expect(events).toEqual(["start a", "end a", "start b", "end b"]);
  });

  it("gives a client class of its own and leaves kafkajs as others import it unpatched", () => {
    const Patched = patchedKafkaClass();
    expect(Patched).not.toBe(Kafka);
    expect(patchedKafkaClass()).toBe(Patched);
    const client = new Patched({ clientId: "t", brokers: ["127.0.0.1:1"] });
    expect(typeof client.producer().sendBatch).toBe("function");
  });
});
