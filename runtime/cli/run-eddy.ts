import type { EddyConfig } from "../config/load-config.js";
import { startControlPlane, type ControlPlane } from "../control/control-plane.js";
import { EddyError } from "../eddy-error.js";
import type { KafkaConnection } from "../kafka/client.js";
import { startLocalKafka, stopLocalKafka } from "../kafka/local-kafka.js";
import { log } from "../log.js";
import { ensureApiToken } from "./api-token.js";
import { progress } from "./context.js";

/** Eddy running in this process: the control plane, and the local Kafka nodes this process started. */
export interface RunningEddy {
  controlPlane: ControlPlane;
  connection: KafkaConnection;
  token: string;
  /** Drains the workers, closes the control plane, and stops the local Kafka nodes this process started. */
  stop(): Promise<void>;
}

/**
 * Starts Eddy as `eddy start` does (and `eddy dev` when no Eddy answers): the local Kafka unless a
 * cluster is configured, the API token, the control plane and its workers.
 *
 * @example
 * ```ts
 * const eddy = await runEddy(config, { nodes: undefined });
 * process.on("SIGINT", () => void eddy.stop().then(() => process.exit(0)));
 * ```
 */
export async function runEddy(config: EddyConfig, options: { nodes?: number }): Promise<RunningEddy> {
  let connection: KafkaConnection;
  // The local nodes this process started, and so stops on exit; nodes that were running stay.
  let ownNodes: number[] = [];
  if (config.brokers) {
    if (options.nodes !== undefined) {
      throw new EddyError(
        "EDDY_KAFKA_NODES_INVALID",
        `--brokers ${options.nodes} sizes the local Kafka, which does not run when KAFKA_BROKERS or --kafka names a cluster: drop one of them`,
        { userError: true },
      );
    }
    connection = { brokers: config.brokers, sasl: config.sasl, ssl: config.ssl };
  } else {
    const kafka = await startLocalKafka({ dataDir: config.dataDir, nodes: options.nodes, kafkaHome: config.kafkaHome ?? undefined, onProgress: progress });
    ownNodes = kafka.started;
    connection = { brokers: kafka.brokers.split(","), sasl: null, ssl: false };
    progress(`Kafka: ${kafka.brokers}${kafka.reused ? " (already running)" : ""}`);
  }

  const token = config.apiToken ?? (await ensureApiToken(config.dataDir));
  const controlPlane = await startControlPlane(config, connection, token);
  if (config.workers === "external") progress("Workers: external (this process runs none; run `eddy worker --function <name>` replicas, e.g. the StatefulSets of `eddy manifests`)");

  return {
    controlPlane,
    connection,
    token,
    async stop() {
      await controlPlane.close().catch((error: unknown) => log.error({ err: error }, "error while stopping"));
      await Promise.all(ownNodes.map((node) => stopLocalKafka({ dataDir: config.dataDir, node })));
    },
  };
}
