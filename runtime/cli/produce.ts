import type { Command } from "commander";
import { Partitioners } from "kafkajs";
import { createKafka } from "../kafka/client.js";
import { configFor, wantsJson } from "./context.js";
import { kafkaConnectionFor } from "./kafka-connection.js";

export function registerProduceCommand(program: Command): void {
  program
    .command("produce <topic> <value>")
    .description("produce one record (value as given, UTF-8) and wait for the broker's ack")
    .option("--key <key>", "record key")
    .option("-H, --header <name=value...>", "record header (repeatable)")
    .action(async (topic: string, value: string, options: { key?: string; header?: string[] }, command: Command) => {
      const config = configFor(command);
      const kafka = createKafka(await kafkaConnectionFor(config), "eddy-cli");
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
      await producer.connect();
      try {
        const headers = Object.fromEntries((options.header ?? []).map((h) => [h.slice(0, h.indexOf("=")), h.slice(h.indexOf("=") + 1)]));
        const [result] = await producer.send({ topic, acks: -1, messages: [{ key: options.key ?? null, value, headers }] });
        const where = { topic, partition: result?.partition, offset: result?.baseOffset };
        process.stdout.write(wantsJson(command) ? `${JSON.stringify(where)}\n` : `produced to ${topic}[${where.partition}] at offset ${where.offset}\n`);
      } finally {
        await producer.disconnect();
      }
    });
}
