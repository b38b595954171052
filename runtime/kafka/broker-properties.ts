import { randomBytes } from "node:crypto";
import { topicReplication } from "./replication.js";

/** The loopback address every local listener binds: the broker is never reachable from other hosts. */
export const LOCAL_HOST = "127.0.0.1";

export interface BrokerPropertiesInput {
  /** The PLAINTEXT port clients connect to. */
  port: number;
  /** The KRaft controller's port; only the broker itself talks to it. */
  controllerPort: number;
  /** Where the broker keeps its logs (the data), `<dataDir>/kafka/data`. */
  logDir: string;
  /** This node's id: 1 unless it is one node of a local cluster. */
  nodeId?: number;
  /** Every node of a local cluster with its controller port, this one included; this node alone unless given. */
  voters?: ReadonlyArray<{ id: number; controllerPort: number }>;
}

/**
 * A KRaft cluster id as `kafka-storage.sh random-uuid` makes one: 16 random bytes, base64url, no padding.
 *
 * @example
 * newClusterId() // "q2bJ0wC1R1a3yU3M5cXz9g"
 */
export function newClusterId(): string {
  // kafka-storage's argument parser reads an id that starts with "-" as an option (1 id in 64 would).
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

export function isClusterId(value: string): boolean {
  return /^[A-Za-z0-9_-]{22}$/.test(value);
}

/**
 * The server.properties of one node of Eddy's local Kafka: one process that is both KRaft controller and
 * broker, on loopback. Alone (no `voters`), every internal topic is at replication factor 1 (there is
 * one node to hold it). In a local cluster every node votes in the controller quorum, and internal
 * topics, and topics created without a replication factor, get `topicReplication(nodes)`.
 *
 * @example
 * writeFile("server.properties", brokerProperties({ port: 9092, controllerPort: 40123, logDir: "/data/kafka/data" }));
 */
export function brokerProperties(input: BrokerPropertiesInput): string {
  const nodeId = input.nodeId ?? 1;
  const voters = input.voters ?? [{ id: nodeId, controllerPort: input.controllerPort }];
  const { replicationFactor, minInsyncReplicas } = topicReplication(voters.length);
  const settings: Array<[string, string | number]> = [
    ["process.roles", "broker,controller"],
    ["node.id", nodeId],
    ["controller.quorum.voters", voters.map((v) => `${v.id}@${LOCAL_HOST}:${v.controllerPort}`).join(",")],
    ["listeners", `PLAINTEXT://${LOCAL_HOST}:${input.port},CONTROLLER://${LOCAL_HOST}:${input.controllerPort}`],
    ["advertised.listeners", `PLAINTEXT://${LOCAL_HOST}:${input.port}`],
    ["controller.listener.names", "CONTROLLER"],
    ["listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"],
    ["inter.broker.listener.name", "PLAINTEXT"],
    ["log.dirs", input.logDir],
    ["num.partitions", 3],
    ["offsets.topic.replication.factor", replicationFactor],
    ["transaction.state.log.replication.factor", replicationFactor],
    ["transaction.state.log.min.isr", minInsyncReplicas],
    ["share.coordinator.state.topic.replication.factor", replicationFactor],
    ["share.coordinator.state.topic.min.isr", minInsyncReplicas],
    // A new consumer group starts at once instead of waiting 3 s for more members: nobody else is coming.
    ["group.initial.rebalance.delay.ms", 0],
  ];
  if (voters.length > 1) {
    // Topics created without a replication factor (a user's, a test's) survive a node's loss too.
    settings.push(["default.replication.factor", replicationFactor], ["min.insync.replicas", minInsyncReplicas]);
  }
  const lines = settings.map(([key, value]) => `${key}=${escapePropertyValue(String(value))}`);
  return `# Written by Eddy (runtime/kafka/local-broker.ts) on every start; edits are overwritten.\n${lines.join("\n")}\n`;
}

/**
 * log4j2 config for the broker: warnings and errors only, plus the one "started" line, to stdout,
 * which the broker's spawner points at `<dataDir>/kafka/broker.log`.
 */
export function log4j2Properties(): string {
  return [
    "status = warn",
    "name = eddy-local-kafka",
    // The JVM is already exiting when Kafka logs its last lines; log4j's own hook would only warn about that.
    "shutdownHook = disable",
    "appender.out.type = Console",
    "appender.out.name = out",
    "appender.out.target = SYSTEM_OUT",
    "appender.out.layout.type = PatternLayout",
    "appender.out.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = warn",
    "rootLogger.appenderRef.out.ref = out",
    "logger.started.name = kafka.server.KafkaRaftServer",
    "logger.started.level = info",
    "",
  ].join("\n");
}

/** The `cluster.id` in a formatted log dir's meta.properties, or null. */
export function clusterIdFromMetaProperties(text: string): string | null {
  const match = /^\s*cluster\.id\s*[=:]\s*(\S+)\s*$/m.exec(text);
  return match?.[1] ?? null;
}

/**
 * Java's Properties.load reads ISO-8859-1 and treats `\` as an escape, so a data dir with a backslash
 * or a non-ASCII name must be escaped to arrive intact.
 */
export function escapePropertyValue(value: string): string {
  let out = "";
  for (const char of value) {
    const code = char.charCodeAt(0);
    if (char === "\\") out += "\\\\";
    else if (code < 0x20 || code > 0x7e) {
      for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    } else out += char;
  }
  // A leading space would be taken as the separator's padding and dropped.
  return out.startsWith(" ") ? `\\${out}` : out;
}
