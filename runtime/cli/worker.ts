import type { Command } from "commander";
import { FunctionRegistry } from "../control/registry.js";
import { createKafka } from "../kafka/client.js";
import { log } from "../log.js";
import { WorkerSupervisor } from "../worker/supervisor.js";
import { configFor } from "./context.js";
import { kafkaConnectionFor } from "./kafka-connection.js";

/**
 * `eddy worker --function <name>`: one replica of one function, without the control plane: the entry
 * point of a Kubernetes Deployment scaled by KEDA or Eddy's scaler (SPEC §7). It follows the registry
 * topic, so a deploy, rollback, pause or delete made through any control plane reaches it.
 */
export function registerWorkerCommand(program: Command): void {
  program
    .command("worker")
    .description("run one replica of one function (Kubernetes entry point; needs KAFKA_BROKERS or a local broker)")
    .requiredOption("--function <name>", "the function to run")
    .action(async (options: { function: string }, command: Command) => {
      const config = configFor(command);
      const name = options.function;
      const connection = await kafkaConnectionFor(config);
      const registry = await FunctionRegistry.open(createKafka(connection, `eddy-worker-${name}`), `${config.topicPrefix}functions`);
      const supervisor = new WorkerSupervisor({ kafka: connection, topicPrefix: config.topicPrefix, logLevel: config.logLevel });
      const follow = (task: Promise<void>) => void task.catch((error: unknown) => log.error({ err: error, function: name }, "could not apply a registry change"));
      registry.onChange((changed, entry) => {
        if (changed !== name) return;
        follow(entry ? supervisor.apply(entry.record, entry.paused) : supervisor.remove(name));
        if (!entry) log.warn({ function: name }, "the function was deleted; waiting for it to be deployed again");
      });
      const entry = registry.entry(name);
      if (entry) follow(supervisor.apply(entry.record, entry.paused));
      else log.warn({ function: name }, "no such function in the registry yet; waiting for it to be deployed");

      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        await supervisor.stopAll();
        await registry.close();
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown());
      process.on("SIGTERM", () => void shutdown());
      log.info({ function: name }, "worker replica running");
    });
}
