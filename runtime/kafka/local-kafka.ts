import { existsSync, readFileSync } from "node:fs";
import { isBrokerProcess } from "./broker-process.js";
import { brokerPaths, readBrokerState } from "./broker-state.js";
import { clusterStateFile, nodePaths, readClusterState } from "./cluster-state.js";
import { kafkaLayoutMismatch, kafkaNodesInvalid } from "./errors.js";
import { localBrokerStatus, startLocalBroker, stopLocalBroker } from "./local-broker.js";
import { localClusterStatus, startLocalCluster, stopLocalCluster, type LocalNode, type LocalNodeStatus } from "./local-cluster.js";

// The local Kafka of a data dir, whichever shape it has: a single broker in `<dataDir>/kafka` (as Eddy
// always ran it), or a cluster of n nodes in `<dataDir>/kafka/node-<i>`, remembered in cluster.json.

/**
 * The node counts `--brokers` accepts: one broker, or three nodes, the smallest quorum that survives
 * the loss of a node (two would stop at the first loss, and more JVMs than three gain a laptop nothing).
 */
export const SUPPORTED_NODE_COUNTS = [1, 3] as const;

/**
 * Reads `--brokers`; anything but a supported count is a user error naming the option and the counts.
 *
 * @example
 * parseNodeCount("--brokers", "3") // 3
 */
export function parseNodeCount(option: string, text: string): number {
  const count = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(SUPPORTED_NODE_COUNTS as readonly number[]).includes(count)) {
    throw kafkaNodesInvalid(option, text, "1 (a single broker) or 3 (a KRaft cluster of three nodes, which survives the loss of one)");
  }
  return count;
}

export interface StartLocalKafkaOptions {
  dataDir: string;
  /** How many nodes; unless given, as many as the data dir was started with before (1 for a new one). */
  nodes?: number;
  kafkaHome?: string;
  onProgress?: (line: string) => void;
  timeoutMs?: number;
}

export interface LocalKafka {
  /** The bootstrap list, every node's `127.0.0.1:<port>`, comma-separated. */
  brokers: string;
  nodes: LocalNode[];
  /** The nodes this call started: stop these, and only these, when done with them. */
  started: number[];
  /** True when every node was running already. */
  reused: boolean;
}

/**
 * Starts the local Kafka of `dataDir`, or the nodes of it that are not running, and resolves once every
 * node serves clients.
 *
 * @example
 * const kafka = await startLocalKafka({ dataDir: ".eddy", nodes: 3, onProgress: console.error });
 */
export async function startLocalKafka(options: StartLocalKafkaOptions): Promise<LocalKafka> {
  const has = await layoutOf(options.dataDir);
  const nodes = options.nodes ?? has ?? 1;
  if (has !== null && has !== nodes) throw kafkaLayoutMismatch(brokerPaths(options.dataDir).dir, has, nodes);
  const common = { dataDir: options.dataDir, kafkaHome: options.kafkaHome, onProgress: options.onProgress, timeoutMs: options.timeoutMs };
  if (nodes === 1) {
    const broker = await startLocalBroker(common);
    const port = Number(broker.brokers.slice(broker.brokers.lastIndexOf(":") + 1));
    return { brokers: broker.brokers, nodes: [{ id: 1, port, pid: broker.pid }], started: broker.reused ? [] : [1], reused: broker.reused };
  }
  const cluster = await startLocalCluster({ ...common, nodes });
  return { ...cluster, reused: cluster.started.length === 0 };
}

/**
 * Stops every node of the local Kafka, or node `node`: SIGTERM, then SIGKILL after `timeoutMs`.
 * Resolves to the ids of the nodes that were running.
 *
 * @example
 * await stopLocalKafka({ dataDir: ".eddy", node: 2 });
 */
export async function stopLocalKafka(options: { dataDir: string; node?: number; timeoutMs?: number }): Promise<number[]> {
  const nodes = (await layoutOf(options.dataDir)) ?? 1;
  if (options.node !== undefined && !(Number.isInteger(options.node) && options.node >= 1 && options.node <= nodes)) {
    throw kafkaNodesInvalid("--node", String(options.node), nodes === 1 ? "1 (this data dir runs a single broker)" : `a node id from 1 to ${nodes}`);
  }
  if (nodes === 1) return (await stopLocalBroker(options)) ? [1] : [];
  return stopLocalCluster({ ...options, nodes });
}

export interface LocalKafkaStatus {
  /** True while any node runs. */
  running: boolean;
  /** The running nodes' bootstrap list, null when none runs. */
  brokers: string | null;
  nodes: LocalNodeStatus[];
}

/**
 * Which nodes of the local Kafka run, and where.
 *
 * @example
 * const { running, brokers, nodes } = await localKafkaStatus({ dataDir: ".eddy" });
 */
export async function localKafkaStatus(options: { dataDir: string }): Promise<LocalKafkaStatus> {
  const count = (await layoutOf(options.dataDir)) ?? 1;
  let nodes: LocalNodeStatus[];
  if (count === 1) {
    const [status, state] = await Promise.all([localBrokerStatus(options), readBrokerState(brokerPaths(options.dataDir))]);
    nodes = [{ id: 1, port: state?.port ?? null, pid: status.running ? state!.pid : null, running: status.running }];
  } else {
    nodes = await localClusterStatus({ ...options, nodes: count });
  }
  const up = nodes.filter((node) => node.running);
  return { running: up.length > 0, brokers: up.length === 0 ? null : up.map((node) => `127.0.0.1:${node.port}`).join(","), nodes };
}

/**
 * SIGKILLs every node of the data dir's local Kafka at once, synchronously: for `process.on("exit")`,
 * where nothing asynchronous runs any more.
 */
export function killLocalKafkaSync(dataDir: string): void {
  const count = readClusterNodesSync(dataDir) ?? 1;
  const paths = count === 1 ? [brokerPaths(dataDir)] : Array.from({ length: count }, (_, i) => nodePaths(dataDir, i + 1));
  for (const { stateFile, propertiesFile } of paths) {
    try {
      const pid = (JSON.parse(readFileSync(stateFile, "utf8")) as { pid?: unknown }).pid;
      if (typeof pid === "number" && isBrokerProcess(pid, propertiesFile)) process.kill(pid, "SIGKILL");
    } catch {
      // No state, or it already went away.
    }
  }
}

/** How many nodes the data dir's local Kafka has, or null when it holds none yet. */
async function layoutOf(dataDir: string): Promise<number | null> {
  const cluster = await readClusterState(dataDir);
  if (cluster !== null) return cluster.nodes;
  const single = brokerPaths(dataDir);
  return existsSync(single.stateFile) || existsSync(single.metaFile) ? 1 : null;
}

function readClusterNodesSync(dataDir: string): number | null {
  try {
    const nodes = (JSON.parse(readFileSync(clusterStateFile(dataDir), "utf8")) as { nodes?: unknown }).nodes;
    return typeof nodes === "number" && Number.isInteger(nodes) && nodes >= 1 ? nodes : null;
  } catch {
    return null;
  }
}
