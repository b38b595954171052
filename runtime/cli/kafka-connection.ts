import type { EddyConfig } from "../config/load-config.js";
import { EddyError } from "../eddy-error.js";
import type { KafkaConnection } from "../kafka/client.js";
import { localKafkaStatus } from "../kafka/local-kafka.js";

/** The cluster a command talks to: KAFKA_BROKERS / --kafka, else the local Kafka (its running nodes) of this data dir. */
export async function kafkaConnectionFor(config: EddyConfig): Promise<KafkaConnection> {
  if (config.brokers) return { brokers: config.brokers, sasl: config.sasl, ssl: config.ssl };
  const status = await localKafkaStatus({ dataDir: config.dataDir });
  if (!status.running || !status.brokers) {
    throw new EddyError("EDDY_CLI_NO_KAFKA", "no Kafka: run 'eddy start' (or 'eddy kafka start'), or set KAFKA_BROKERS=host:9092", { userError: true });
  }
  return { brokers: status.brokers.split(","), sasl: null, ssl: false };
}
