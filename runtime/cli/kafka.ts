import type { Command } from "commander";
import { localBrokerStatus, startLocalBroker, stopLocalBroker } from "../kafka/local-broker.js";
import { progress, wantsJson } from "./context.js";

/**
 * `eddy kafka start|stop|status`: the local single-node broker of the data dir, on its own (SPEC §2).
 * `resolveKafkaHome` gives EDDY_KAFKA_HOME as loadConfig() resolved it, if any.
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
    .description("manage the local Kafka broker Eddy runs when KAFKA_BROKERS is not set");

  kafka
    .command("start")
    .description("start the local Kafka broker in the background and print its bootstrap address")
    .action(async () => {
      const broker = await startLocalBroker({ dataDir: resolveDataDir(), kafkaHome: resolveKafkaHome(), onProgress: progress });
      if (broker.reused) progress(`The local Kafka broker was already running (pid ${broker.pid}).`);
      // Only the address goes to stdout, so `export KAFKA_BROKERS=$(eddy kafka start)` works.
      process.stdout.write(`${broker.brokers}\n`);
    });

  kafka
    .command("stop")
    .description("stop the local Kafka broker (its data stays)")
    .action(async () => {
      const wasRunning = await stopLocalBroker({ dataDir: resolveDataDir() });
      process.stdout.write(wasRunning ? "Stopped the local Kafka broker.\n" : "The local Kafka broker was not running.\n");
    });

  kafka
    .command("status")
    .description("say whether the local Kafka broker runs, and where")
    .option("--json", 'print { "running": true|false, "brokers": "127.0.0.1:<port>" | null }')
    .action(async (_options: unknown, command: Command) => {
      const status = await localBrokerStatus({ dataDir: resolveDataDir() });
      if (wantsJson(command)) {
        process.stdout.write(`${JSON.stringify(status)}\n`);
      } else {
        process.stdout.write(status.running ? `running on ${status.brokers}\n` : "not running\n");
      }
    });
}
