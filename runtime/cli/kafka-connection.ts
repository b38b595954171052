import type { EddyConfig } from "../config/load-config.js";
import { EddyError } from "../eddy-error.js";
import type { KafkaConnection } from "../kafka/client.js";
import { localBrokerStatus } from "../kafka/local-broker.js";

/** The cluster a command talks to: KAFKA_BROKERS / --kafka, else the local broker of this data dir. */
export async function kafkaConnectionFor(config: EddyConfig): Promise<KafkaConnection> {
  if (config.brokers) return { brokers: config.brokers, sasl: config.sasl, ssl: config.ssl };
  const status = await localBrokerStatus({ dataDir: config.dataDir });
  if (!status.running || !status.brokers) {
    throw new EddyError("EDDY_CLI_NO_KAFKA", "no Kafka: run 'eddy start' (or 'eddy kafka start'), or set KAFKA_BROKERS=host:9092", { userError: true });
  }
  return { brokers: [status.brokers], sasl: null, ssl: false };
}
