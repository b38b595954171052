/**
 * The baselines: a bare kafkajs consumer in its own process, written as a user would write one
 * with kafkajs' defaults. Started by the bench with one JSON argument (BaselineSpec); prints
 * "joined" once its consumer group is joined, and runs until SIGTERM.
 */
import { performance } from "node:perf_hooks";
import { Kafka, logLevel, type Consumer } from "kafkajs";
import type { BaselineSpec } from "../lib/processes.js";

const spec = JSON.parse(process.argv[2] ?? "{}") as BaselineSpec;
const kafka = new Kafka({ clientId: `bench-baseline-${spec.mode}`, brokers: spec.brokers.split(","), logLevel: logLevel.ERROR });
const consumers: Consumer[] = [];
let processed = 0;

/** Tells the bench how many records are done, and when (a clock every process on the machine shares). */
function report(count: number): void {
  processed += count;
  process.stdout.write(`progress ${processed} ${performance.timeOrigin + performance.now()}\n`);
}

/** Starts a consumer and resolves once it has joined its group; says when on stdout (`joined <ms>`), the first time. */
async function joined(consumer: Consumer, start: () => Promise<void>): Promise<void> {
  const done = new Promise<void>((resolve) =>
    consumer.on(consumer.events.GROUP_JOIN, () => {
      if (consumers.indexOf(consumer) === 0) process.stdout.write(`joined ${performance.timeOrigin + performance.now()}\n`);
      resolve();
    }),
  );
  await start();
  await done;
}

async function main(): Promise<void> {
  switch (spec.mode) {
    case "noop-batch": {
      // Scenario 1: eachBatch doing nothing but count; kafkajs resolves and commits after each batch.
      const consumer = kafka.consumer({ groupId: spec.groupId });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
      await joined(consumer, () => consumer.run({ eachBatch: async ({ batch }) => report(batch.messages.length) }));
      break;
    }
    case "relay": {
      // Scenario 2: consume → produce, one send per fetched batch (what Eddy does with a chunk's emits).
      const producer = kafka.producer();
      await producer.connect();
      const consumer = kafka.consumer({ groupId: spec.groupId });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: false });
      await joined(consumer, () =>
        consumer.run({
          eachBatch: async ({ batch }) => {
            if (batch.messages.length === 0) return;
            await producer.send({
              topic: spec.output,
              acks: -1,
              messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: m.headers })),
            });
          },
        }),
      );
      break;
    }
    case "slow-message": {
      // Scenario 3: eachMessage awaiting the same 10 ms HTTP call as the function.
      const consumer = kafka.consumer({ groupId: spec.groupId });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
      await joined(consumer, () =>
        consumer.run({
          eachMessage: async () => {
            const response = await fetch(spec.url);
            await response.text();
            report(1);
          },
        }),
      );
      break;
    }
    case "idle": {
      // Scenario 6: one consumer per topic, connected and idle.
      for (const [index, topic] of spec.topics.entries()) {
        const consumer = kafka.consumer({ groupId: `${spec.groupId}-${index}` });
        consumers.push(consumer);
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: false });
        await joined(consumer, () => consumer.run({ eachMessage: async () => {} }));
      }
      break;
    }
  }
  process.stdout.write("ready\n");
}

async function stop(): Promise<void> {
  await Promise.allSettled(consumers.map((c) => c.disconnect()));
  process.exit(0);
}

process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
// The bench going away, even by kill -9, must not leave a consumer behind.
process.on("disconnect", () => void stop());
main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
