import type { Command } from "commander";
import { kafkaNodesInvalid } from "../kafka/errors.js";
import { localKafkaStatus, parseNodeCount, startLocalKafka, stopLocalKafka } from "../kafka/local-kafka.js";
import { progress, wantsJson } from "./context.js";

/**
 * `eddy kafka start|stop|status`: the local Kafka of the data dir, on its own (SPEC §2, §8): one broker,
 * or with `--brokers 3` a KRaft cluster of three nodes. `resolveKafkaHome` gives EDDY_KAFKA_HOME as
 * loadConfig() resolved it, if any.
 *
 * @example
 * registerKafkaCommands(program, () => loadConfig(program.opts()).dataDir);
 */
export function registerKafkaCommands(
  program: Command,
  resolveDataDir: () => string,
  resolveKafkaHome: () => string | undefined = () => undefined,
): void {
  const kafka = program
    .command("kafka")
    .description("manage the local Kafka Eddy runs when KAFKA_BROKERS is not set");

  kafka
    .command("start")
    .description("start the local Kafka (or its nodes that are not running) in the background and print its bootstrap address")
    .option("--brokers <n>", "1, or 3 for a KRaft cluster of three nodes (default: as the data dir was started before, else 1)")
    .action(async (options: { brokers?: string }) => {
      const nodes = options.brokers === undefined ? undefined : parseNodeCount("--brokers", options.brokers);
      const started = await startLocalKafka({ dataDir: resolveDataDir(), nodes, kafkaHome: resolveKafkaHome(), onProgress: progress });
      if (started.reused) {
        const pids = started.nodes.map((node) => node.pid).join(", ");
        progress(`The local Kafka was already running (pid ${pids}).`);
      } else if (started.nodes.length > 1) {
        progress(`Started node ${started.started.join(", ")} of ${started.nodes.length}.`);
      }
      // Only the address goes to stdout, so `export KAFKA_BROKERS=$(eddy kafka start)` works.
      process.stdout.write(`${started.brokers}\n`);
    });

  kafka
    .command("stop")
    .description("stop the local Kafka, or one node of a local cluster (the data stays)")
    .option("--node <id>", "stop only this node (1…n)")
    .action(async (options: { node?: string }) => {
      if (options.node !== undefined && !/^\d+$/.test(options.node)) throw kafkaNodesInvalid("--node", options.node, "a node id (1…n)");
      const node = options.node === undefined ? undefined : Number(options.node);
      const stopped = await stopLocalKafka({ dataDir: resolveDataDir(), node });
      const what = node === undefined ? "the local Kafka" : `node ${node} of the local Kafka`;
      const which = node === undefined && stopped.length > 1 ? ` (nodes ${stopped.join(", ")})` : "";
      process.stdout.write(stopped.length > 0 ? `Stopped ${what}${which}.\n` : `${capitalize(what)} was not running.\n`);
    });

  kafka
    .command("status")
    .description("say whether the local Kafka runs, and where")
    .option("--json", 'print { "running": true|false, "brokers": "127.0.0.1:<port>,…" | null, "nodes": [{ id, port, pid, running }] }')
    .action(async (_options: unknown, command: Command) => {
      const status = await localKafkaStatus({ dataDir: resolveDataDir() });
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
        return;
      }
      process.stdout.write(status.running ? `running on ${status.brokers}\n` : "not running\n");
      if (status.nodes.length > 1) {
        for (const node of status.nodes) {
          const where = node.port === null ? "" : ` 127.0.0.1:${node.port}`;
          process.stdout.write(`  node ${node.id}${where}: ${node.running ? `running (pid ${node.pid})` : "stopped"}\n`);
        }
      }
    });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
