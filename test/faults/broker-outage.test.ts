import { randomBytes, randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners, type KafkaMessage } from "kafkajs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalBroker, stopLocalBroker } from "../../runtime/kafka/local-broker.js";
import { createTopicsAndWait } from "../../runtime/kafka/topics.js";
import { EddyProcess, tempDir } from "../helpers/eddy-process.js";
import { eventually } from "../helpers/kafka.js";
import { tally, unique } from "../dispatcher/support.js";

// A broker of its own, apart from the run's cluster: this test stops it for 10 s in the middle of a run.
const dataDir = join(tmpdir(), `eddy-outage-${randomBytes(6).toString("hex")}`);
const RECORDS = 20_000;
const OUTAGE_MS = 10_000;
const progress = (line: string): void => void process.stderr.write(`[broker outage] ${line}\n`);

function client(brokers: string): Kafka {
  return new Kafka({ clientId: "eddy-outage-test", brokers: [brokers], logLevel: logLevel.NOTHING });
}

/**
 * Every record of the output topics, read_committed, as they arrive, across the outage. The reader's
 * consumer restarts when the broker goes away and then reads from the beginning again, so records
 * are kept by position: a record read twice counts once, two records with one key are a duplicate.
 */
class Outputs {
  readonly byTopic = new Map<string, Map<string, KafkaMessage>>();
  private constructor(private readonly consumer: ReturnType<Kafka["consumer"]>) {}

  static async start(kafka: Kafka, topics: string[]): Promise<Outputs> {
    const consumer = kafka.consumer({ groupId: `outage-reader-${randomUUID()}`, maxWaitTimeInMs: 100, retry: { retries: 100 } });
    const outputs = new Outputs(consumer);
    for (const topic of topics) outputs.byTopic.set(topic, new Map());
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const kept = outputs.byTopic.get(batch.topic)!;
        for (const message of batch.messages) kept.set(`${batch.partition}@${message.offset}`, message);
      },
    });
    return outputs;
  }

  keys(topic: string): string[] {
    return [...this.byTopic.get(topic)!.values()].map((m) => m.key!.toString());
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect().catch(() => undefined);
  }
}

function source(name: string, topic: string, out: string, delivery: string): string {
  return `import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: ${JSON.stringify(name)},
  topics: [${JSON.stringify(topic)}],
  delivery: ${JSON.stringify(delivery)},
  startFrom: "earliest",
  scaling: { minReplicas: 1, maxReplicas: 1 },
  async handle(event, ctx) {
    // A little work per record, so that 20,000 records take long enough for the outage to land mid-run.
    await new Promise((resolve) => setTimeout(resolve, 1));
    await ctx.emit(${JSON.stringify(out)}, event.offset, { key: event.key });
  },
});`;
}

describe("a broker stopped for 10 s in the middle of a run, Eddy left running", () => {
  let brokers = "";
  let eddy: EddyProcess | undefined;

  beforeAll(async () => {
    brokers = (await startLocalBroker({ dataDir, onProgress: progress })).brokers;
  });
  afterAll(async () => {
    await eddy?.stop();
    if (eddy && process.env.EDDY_TEST_LOGS) await writeFile(join(process.env.EDDY_TEST_LOGS, "broker-outage.log"), eddy.logs);
    await stopLocalBroker({ dataDir });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("loses nothing: at-least-once processes every record, exactly-once writes each once (read_committed), and the functions recover by themselves", async () => {
    const prefix = unique("outage");
    const topic = unique("outage-in");
    const [alo, eos] = [unique("outage-alo"), unique("outage-eos")];
    const [aloOut, eosOut] = [`${alo}-out`, `${eos}-out`];
    const kafka = client(brokers);
    const admin = kafka.admin();
    await admin.connect();
    // kafkajs' own waitForLeaders fails when the answering broker does not know the new topic yet.
    await createTopicsAndWait(admin, [topic, aloOut, eosOut].map((t) => ({ topic: t, numPartitions: 3 })));
    await admin.disconnect();

    eddy = await EddyProcess.start({ KAFKA_BROKERS: brokers, EDDY_DATA_DIR: await tempDir("eddy-outage"), EDDY_TOPIC_PREFIX: `${prefix}.` });
    for (const [name, out, delivery] of [[alo, aloOut, "at-least-once"], [eos, eosOut, "exactly-once"]] as const) {
      const answer = await eddy.api("POST", "/v1/functions", { source: source(name, topic, out, delivery) });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
    }
    expect(await eventually(async () => {
      const states = await Promise.all([alo, eos].map(async (n) => (await eddy!.api("GET", `/v1/functions/${n}`)).body.replicas?.ready));
      return states.every((ready) => ready === 1);
    }, 60_000)).toBe(true);

    const outputs = await Outputs.start(kafka, [aloOut, eosOut]);
    const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const messages = Array.from({ length: RECORDS }, (_, i) => ({ key: `r${i}`, value: String(i), partition: i % 3 }));
    for (let i = 0; i < RECORDS; i += 1_000) await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 1_000) });
    await producer.disconnect();

    // Mid-run: both functions have written some of their output, neither all of it.
    expect(await eventually(async () => outputs.keys(aloOut).length >= 3_000 && outputs.keys(eosOut).length >= 3_000, 120_000, 50)).toBe(true);
    const before = { alo: new Set(outputs.keys(aloOut)).size, eos: outputs.keys(eosOut).length };
    expect(Math.min(before.alo, before.eos)).toBeLessThan(RECORDS);
    progress(`stopping the broker with ${before.alo} / ${before.eos} records out`);
    await stopLocalBroker({ dataDir });
    const stoppedAt = Date.now();

    // While the broker is gone, the API still answers and says what is wrong.
    let sawError = false;
    while (Date.now() - stoppedAt < OUTAGE_MS) {
      const status = await eddy.api("GET", `/v1/functions/${alo}`);
      if (status.status === 200 && status.body.state === "failing" && /Kafka/i.test(status.body.stateReason ?? "")) sawError = true;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(sawError, "GET /v1/functions/:name says the function fails because Kafka cannot be reached").toBe(true);

    progress("starting the broker again");
    expect((await startLocalBroker({ dataDir, onProgress: progress })).brokers).toBe(brokers);

    expect(await eventually(async () => new Set(outputs.keys(aloOut)).size >= RECORDS && outputs.keys(eosOut).length >= RECORDS, 180_000, 200)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const aloTally = tally(outputs.keys(aloOut));
    const eosTally = tally(outputs.keys(eosOut));
    progress(`at-least-once: ${aloTally.distinct} processed, ${aloTally.duplicates} duplicates, ${RECORDS - aloTally.distinct} lost`);
    progress(`exactly-once: ${eosTally.distinct} processed, ${eosTally.duplicates} duplicates, ${RECORDS - eosTally.distinct} lost`);
    expect(aloTally.distinct).toBe(RECORDS);
    expect(eosTally).toEqual({ distinct: RECORDS, duplicates: 0 });
    await outputs.stop();

    // Recovered by itself: running again, nothing in a dead-letter topic.
    for (const name of [alo, eos]) {
      expect(await eventually(async () => (await eddy!.api("GET", `/v1/functions/${name}`)).body.state === "running", 60_000)).toBe(true);
      expect((await eddy.api("GET", `/v1/functions/${name}`)).body.stats.deadLettered).toBe(0);
    }
  }, 420_000);
});
