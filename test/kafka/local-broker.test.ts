import { randomBytes } from "node:crypto";
import { readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners } from "kafkajs";
import { afterAll, describe, expect, it } from "vitest";
import { localBrokerStatus, startLocalBroker, stopLocalBroker } from "../../runtime/kafka/local-broker.js";

// A broker of its own, apart from the test run's shared one: this test stops and restarts it.
const dataDir = join(tmpdir(), `eddy-test-broker-${randomBytes(6).toString("hex")}`);
const topic = "survives-restart";
const progress = (line: string): void => void process.stderr.write(`[local-broker test] ${line}\n`);

function client(brokers: string): Kafka {
  return new Kafka({ clientId: "eddy-local-broker-test", brokers: [brokers], logLevel: logLevel.NOTHING });
}

/** Every value in `topic`, read from the beginning by a new consumer group. */
async function readAll(brokers: string, expected: number): Promise<string[]> {
  const consumer = client(brokers).consumer({ groupId: `reader-${randomBytes(4).toString("hex")}`, maxWaitTimeInMs: 100 });
  const values: string[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${values.length} of ${expected} records`)), 60_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          values.push(message.value?.toString() ?? "");
          if (values.length >= expected) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return values;
}

function occupy(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port, host: "127.0.0.1" }, () => resolve(server));
  });
}

describe("the local broker", () => {
  let brokers = "";
  let pid = 0;

  afterAll(async () => {
    await stopLocalBroker({ dataDir });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("starts on loopback and reports itself running", async () => {
    const started = await startLocalBroker({ dataDir, onProgress: progress });
    expect(started.reused).toBe(false);
    expect(started.brokers).toMatch(/^127\.0\.0\.1:\d+$/);
    brokers = started.brokers;
    pid = started.pid;

    expect(await localBrokerStatus({ dataDir })).toEqual({ running: true, brokers });
    const state = JSON.parse(await readFile(join(dataDir, "kafka", "broker.json"), "utf8")) as Record<string, unknown>;
    expect(state).toMatchObject({ pid, brokers, version: expect.stringMatching(/^\d+\.\d+\.\d+$/) });
    expect(state.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("serves a topic: create, produce, consume", async () => {
    const admin = client(brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const producer = client(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: "k", value: "before restart" }] });
    await producer.disconnect();

    expect(await readAll(brokers, 1)).toEqual(["before restart"]);
  });

  it("is reused, not started twice, when started again while running", async () => {
    const again = await startLocalBroker({ dataDir });
    expect(again).toEqual({ brokers, pid, reused: true });
  });

  it("stops, and then reports itself not running", async () => {
    expect(await stopLocalBroker({ dataDir })).toBe(true);
    expect(await localBrokerStatus({ dataDir })).toEqual({ running: false, brokers: null });
    expect(await stopLocalBroker({ dataDir })).toBe(false);
  });

  it("starts again on the same port with the topic's record still there", async () => {
    const restarted = await startLocalBroker({ dataDir, onProgress: progress });
    expect(restarted.reused).toBe(false);
    expect(restarted.brokers).toBe(brokers);
    expect(await readAll(restarted.brokers, 1)).toEqual(["before restart"]);
    expect(await stopLocalBroker({ dataDir })).toBe(true);
  });

  it("moves to another port when its old one is taken, keeping the data", async () => {
    const oldPort = Number(brokers.split(":")[1]);
    const squatter = await occupy(oldPort);
    try {
      const moved = await startLocalBroker({ dataDir, onProgress: progress });
      expect(moved.brokers).not.toBe(brokers);
      expect(await localBrokerStatus({ dataDir })).toEqual({ running: true, brokers: moved.brokers });
      expect(await readAll(moved.brokers, 1)).toEqual(["before restart"]);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});
