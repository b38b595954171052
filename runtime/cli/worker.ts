import os from "node:os";
import type { Command } from "commander";
import { FunctionRegistry, type FunctionEntry } from "../control/registry.js";
import { EddyError } from "../eddy-error.js";
import { createKafka } from "../kafka/client.js";
import { log } from "../log.js";
import { canOpen, secretKeyMismatch } from "../secrets/sealed-secrets.js";
import { loadSecretKey } from "../secrets/secret-key.js";
import { startProbeServer, type ProbeServer } from "../worker/probe-server.js";
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
    .option("--replica <index>", "this replica's index 0…N-1 (default: the ordinal of a StatefulSet pod's name, else 0)")
    .option("--port <port>", "serve GET /healthz and /readyz on this port, for Kubernetes' probes (EDDY_WORKER_PORT; default: none)")
    .option("--otel <url>", "export traces with OTLP over HTTP to this endpoint, e.g. http://localhost:4318 (same as OTEL_EXPORTER_OTLP_ENDPOINT)")
    .action(async (options: { function: string; replica?: string; port?: string }, command: Command) => {
      const config = configFor(command);
      const name = options.function;
      const replicaIndex = replicaIndexOf(options.replica, os.hostname());
      const connection = await kafkaConnectionFor(config);
      const registry = await FunctionRegistry.open(createKafka(connection, `eddy-worker-${name}`), `${config.topicPrefix}functions`);
      const secretKey = await loadSecretKey(config.secretKey, config.dataDir);
      const supervisor = new WorkerSupervisor({
        kafka: connection,
        topicPrefix: config.topicPrefix,
        logLevel: config.logLevel,
        replicaIndex,
        secretKey,
        workerCpuProfileDir: config.workerCpuProfileDir,
        tracing: config.tracing,
      });
      const follow = (task: Promise<void>) => void task.catch((error: unknown) => log.error({ err: error, function: name }, "could not apply a registry change"));
      // A version whose secrets this key cannot open is not run (one clear error), as in the control plane.
      let unreadable = false;
      const apply = (entry: FunctionEntry) => {
        unreadable = !canOpen(secretKey, entry.record.secrets);
        if (!unreadable) return supervisor.apply(entry.record, entry.paused);
        log.error({ function: name }, secretKeyMismatch([name]).message);
        return supervisor.remove(name);
      };
      // Ready once its consumer has joined the group; a replica with nothing to run (paused, not deployed)
      // is ready too, idle by design; one whose secrets cannot be opened is not.
      const ready = () => (supervisor.isActive(name) ? supervisor.status(name).ready > 0 : !unreadable);
      const probePort = options.port !== undefined ? config.port : config.workerPort;
      let probes: ProbeServer | undefined;
      if (probePort !== null) probes = await startProbeServer({ host: config.host, port: probePort, ready });
      registry.onChange((changed, entry) => {
        if (changed !== name) return;
        follow(entry ? apply(entry) : supervisor.remove(name));
        if (!entry) log.warn({ function: name }, "the function was deleted; waiting for it to be deployed again");
      });
      const entry = registry.entry(name);
      if (entry) follow(apply(entry));
      else log.warn({ function: name }, "no such function in the registry yet; waiting for it to be deployed");

      let stopping = false;
      const shutdown = async () => {
        if (stopping) return;
        stopping = true;
        await supervisor.stopAll();
        await registry.close();
        await probes?.close();
        process.exit(0);
      };
      process.on("SIGINT", () => void shutdown());
      process.on("SIGTERM", () => void shutdown());
      log.info({ function: name, replica: replicaIndex, ...(probes ? { probePort: probes.port } : {}) }, "worker replica running");
    });
}

/**
 * The replica index (part of the transactional id under exactly-once, so replicas must not share one):
 * `--replica`, else the ordinal a StatefulSet gives its pods (`<name>-<ordinal>`, also the hostname),
 * else 0.
 */
export function replicaIndexOf(flag: string | undefined, hostname: string): number {
  if (flag !== undefined) {
    if (!/^\d{1,4}$/.test(flag)) throw new EddyError("EDDY_CLI_BAD_OPTION", `--replica: expected an integer from 0 to 9999, got ${flag}`, { userError: true });
    return Number(flag);
  }
  const ordinal = /-(\d{1,4})$/.exec(hostname);
  return ordinal ? Number(ordinal[1]) : 0;
}
