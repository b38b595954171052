import { Kafka, logLevel } from "kafkajs";

/** Which broker the probe must find: another Kafka on the same port (one that won a race for it) is not ours. */
export interface ExpectedBroker {
  /** The KRaft cluster id its data was formatted with. */
  clusterId: string;
  /** Its node id, which must be among the cluster's unfenced brokers. */
  nodeId?: number;
}

/**
 * Whether the broker at `brokers` serves clients: it lists itself as an unfenced broker
 * (DescribeCluster) and answers a Metadata request. An open port alone is not enough: the socket
 * accepts connections well before the KRaft broker has caught up with its metadata log.
 */
export async function brokerAnswers(brokers: string, expected?: ExpectedBroker): Promise<boolean> {
  const kafka = new Kafka({
    clientId: "eddy-broker-probe",
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 3_000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0) return false;
    if (expected !== undefined && cluster.clusterId !== expected.clusterId) return false;
    if (expected?.nodeId !== undefined && !cluster.brokers.some((b) => b.nodeId === expected.nodeId)) return false;
    await admin.fetchTopicMetadata();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
