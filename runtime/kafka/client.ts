import { logLevel as KafkaLogLevel, type Kafka, type KafkaConfig, type logCreator } from "kafkajs";
import type { EddyConfig } from "../config/load-config.js";
import { log } from "../log.js";
import { patchedKafkaClass } from "./produce-retry-patch.js";
import { patchKafkaRecordDecoder } from "./record-decoder-patch.js";
import { patchKafkaRequestQueue } from "./request-queue-patch.js";

/** What a process needs to reach the cluster; passed to worker processes as is. */
export type KafkaConnection = Pick<EddyConfig, "sasl" | "ssl"> & { brokers: string[] };

const levelNames: Record<number, "error" | "warn" | "info" | "debug"> = {
  [KafkaLogLevel.ERROR]: "error",
  [KafkaLogLevel.WARN]: "warn",
  [KafkaLogLevel.INFO]: "info",
  [KafkaLogLevel.DEBUG]: "debug",
};

/**
 * kafkajs logs transient coordinator errors (e.g. "coordinator is loading") at ERROR and retries them itself;
 * they go to our log at debug so that a healthy start does not look like a failure. So does its warning about
 * limited retries on idempotent producers: Eddy retries a failed send itself and never skips it.
 */
const toPino: logCreator = () => ({ namespace, level, log: entry }) => {
  const { message, ...rest } = entry;
  const quiet = (levelNames[level] === "error" && rest.retriable !== false) || message.startsWith("Limiting retries for the idempotent producer");
  const pinoLevel = quiet ? "debug" : (levelNames[level] ?? "info");
  log[pinoLevel]({ kafkajs: namespace, ...rest }, message);
};

/** One kafkajs client for this process, logging through Eddy's logger. */
export function createKafka(connection: KafkaConnection, clientId: string): Kafka {
  patchKafkaRequestQueue();
  if (!patchKafkaRecordDecoder()) log.debug("kafkajs decoded a fetch before its record decoder could be replaced: this process keeps kafkajs' own");
  const config: KafkaConfig = {
    clientId,
    brokers: connection.brokers,
    ssl: connection.ssl,
    logLevel: KafkaLogLevel.WARN,
    logCreator: toPino,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  if (connection.sasl) config.sasl = connection.sasl as KafkaConfig["sasl"];
  // Its producers retry a failed send without writing twice on a cluster of several brokers.
  return new (patchedKafkaClass())(config);
}

/** The next offset to consume after `offset`, as Kafka wants it committed. */
export function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}
