import { mkdir } from "node:fs/promises";
import { fileSize, isBrokerProcess, terminate } from "./broker-process.js";
import { isClusterId, LOCAL_HOST, newClusterId } from "./broker-properties.js";
import { brokerPaths, readBrokerState, withStartLock, writeBrokerState, type BrokerState } from "./broker-state.js";
import { nodePaths, readClusterState, writeClusterState } from "./cluster-state.js";
import { clusterPortTaken, kafkaLayoutMismatch, nodeOfOtherCluster } from "./errors.js";
import { resolveKafkaJars, type KafkaJars } from "./kafka-jars.js";
import { DEFAULT_PORT, DEFAULT_START_TIMEOUT_MS, DEFAULT_STOP_TIMEOUT_MS, MAX_LAUNCH_ATTEMPTS } from "./local-broker.js";
import { ensureFormatted, formattedClusterId, isPortTaken, spawnNode, waitUntilReady, writeNodeConfig } from "./node-launch.js";
import { freePort, isPortFree, pickPort, portAnswers } from "./ports.js";
import { checkJava } from "./toolchain.js";

export interface StartLocalClusterOptions {
  /** Eddy's data dir; node i lives in `<dataDir>/kafka/node-<i>`. */
  dataDir: string;
  /** How many nodes; each is a KRaft controller and a broker. */
  nodes: number;
  kafkaHome?: string;
  onProgress?: (line: string) => void;
  /** How long to wait for the nodes to answer; 90 s unless given. */
  timeoutMs?: number;
}

export interface LocalNode {
  id: number;
  /** The node's client port on 127.0.0.1. */
  port: number;
  pid: number;
}

export interface LocalCluster {
  /** The bootstrap list, `127.0.0.1:<port>,…`, every node's. */
  brokers: string;
  nodes: LocalNode[];
  /** The nodes this call started; the others were running already. */
  started: number[];
}

/** A node's place in the cluster: its id, its files and what broker.json remembers of it. */
interface NodeSlot {
  id: number;
  paths: ReturnType<typeof nodePaths>;
  state: BrokerState | null;
  running: boolean;
}

const nodeIds = (count: number): number[] => Array.from({ length: count }, (_, i) => i + 1);
const address = (port: number): string => `${LOCAL_HOST}:${port}`;

/**
 * Starts the nodes of a local KRaft cluster of `nodes` nodes that are not running (all of them the
 * first time), each a JVM of its own that is controller and broker, all voting in one quorum, and
 * resolves once every node serves clients. The nodes run detached, like a single local broker.
 *
 * @example
 * const { brokers } = await startLocalCluster({ dataDir: ".eddy", nodes: 3, onProgress: console.error });
 * // brokers === "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094"
 */
export async function startLocalCluster(options: StartLocalClusterOptions): Promise<LocalCluster> {
  const top = brokerPaths(options.dataDir);
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const onProgress = options.onProgress ?? (() => undefined);
  await mkdir(top.dir, { recursive: true });
  return withStartLock(top, timeoutMs, async () => {
    const remembered = await readClusterState(options.dataDir);
    if (remembered !== null && remembered.nodes !== options.nodes) throw kafkaLayoutMismatch(top.dir, remembered.nodes, options.nodes);
    const slots = await readSlots(options.dataDir, options.nodes);
    const missing = slots.filter((slot) => !slot.running);
    if (missing.length === 0) {
      // Running, perhaps still starting (another eddy process spawned them a moment ago): wait as for our own.
      await Promise.all(slots.map((slot) => waitForRunningNode(slot, timeoutMs)));
      return describe(slots, []);
    }
    await checkJava();
    const jars = await resolveKafkaJars(onProgress, { kafkaHome: options.kafkaHome });
    const clusterId = await chooseClusterId(slots, remembered?.clusterId);
    await writeClusterState(options.dataDir, { nodes: options.nodes, clusterId });
    for (let attempt = 1; ; attempt++) {
      try {
        await launchMissing(slots, { jars, clusterId, timeoutMs, onProgress, freshPorts: attempt > 1 });
        break;
      } catch (error) {
        // Only a cluster that starts from nothing can move its ports: running nodes keep the voter list they have.
        const canMove = missing.length === slots.length;
        if (attempt >= MAX_LAUNCH_ATTEMPTS || !canMove || !isPortTaken(error)) throw error;
        onProgress("A port was taken while the nodes started; trying other ports…");
      }
    }
    return describe(slots, missing.map((slot) => slot.id));
  });
}

/**
 * Stops the cluster's nodes, or node `node` alone: SIGTERM, then SIGKILL after `timeoutMs` (30 s unless
 * given). Resolves to the ids of the nodes that were running.
 *
 * @example
 * await stopLocalCluster({ dataDir: ".eddy", nodes: 3, node: 2 }); // [2]
 */
export async function stopLocalCluster(options: { dataDir: string; nodes: number; node?: number; timeoutMs?: number }): Promise<number[]> {
  const ids = options.node === undefined ? nodeIds(options.nodes) : [options.node];
  const slots = await readSlots(options.dataDir, options.nodes);
  const stopped = await Promise.all(
    slots
      .filter((slot) => ids.includes(slot.id) && slot.state !== null)
      .map(async (slot) => {
        if (slot.running) await terminate(slot.state!.pid!, options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
        await writeBrokerState(slot.paths, { ...slot.state!, pid: null });
        return slot.running ? slot.id : null;
      }),
  );
  return stopped.filter((id): id is number => id !== null);
}

export interface LocalNodeStatus {
  id: number;
  port: number | null;
  /** Null while the node does not run. */
  pid: number | null;
  running: boolean;
}

/**
 * Each node of the cluster: whether its process runs and accepts connections on its port.
 *
 * @example
 * (await localClusterStatus({ dataDir: ".eddy", nodes: 3 })).filter((n) => !n.running) // the nodes to start
 */
export async function localClusterStatus(options: { dataDir: string; nodes: number }): Promise<LocalNodeStatus[]> {
  const slots = await readSlots(options.dataDir, options.nodes);
  return Promise.all(
    slots.map(async ({ id, state, running }) => {
      const answers = running && state !== null && (await portAnswers(state.port));
      return { id, port: state?.port ?? null, pid: answers ? state!.pid : null, running: answers };
    }),
  );
}

async function readSlots(dataDir: string, count: number): Promise<NodeSlot[]> {
  return Promise.all(
    nodeIds(count).map(async (id) => {
      const paths = nodePaths(dataDir, id);
      const state = await readBrokerState(paths);
      const running = state?.pid != null && isBrokerProcess(state.pid, paths.propertiesFile);
      return { id, paths, state, running };
    }),
  );
}

async function waitForRunningNode(slot: NodeSlot, timeoutMs: number): Promise<void> {
  const { pid, brokers, clusterId } = slot.state!;
  const exitReason = (): string | null => (isBrokerProcess(pid!, slot.paths.propertiesFile) ? null : "it exited");
  await waitUntilReady(brokers, timeoutMs, slot.paths, await fileSize(slot.paths.logFile), exitReason, { clusterId, nodeId: slot.id });
}

/** The id the nodes' data already holds (all must agree), else the remembered one, else a new one. */
async function chooseClusterId(slots: NodeSlot[], remembered: string | undefined): Promise<string> {
  for (const slot of slots) {
    const formatted = await formattedClusterId(slot.paths);
    if (formatted !== null) return formatted;
  }
  return remembered !== undefined && isClusterId(remembered) ? remembered : newClusterId();
}

interface LaunchOptions {
  jars: KafkaJars;
  clusterId: string;
  timeoutMs: number;
  onProgress: (line: string) => void;
  /** Ignore the ports of the last run: the last attempt lost a race for one of them. */
  freshPorts: boolean;
}

/** Starts every slot that is not running, with the same voter list as the running ones, and waits for all. */
async function launchMissing(slots: NodeSlot[], options: LaunchOptions): Promise<void> {
  const missing = slots.filter((slot) => !slot.running);
  const ports = await choosePorts(slots, options.freshPorts);
  const voters = slots.map((slot) => ({ id: slot.id, controllerPort: ports.get(slot.id)!.controllerPort }));

  const spawned: Array<{ slot: NodeSlot; pid: number; logOffset: number; exitReason: () => string | null }> = [];
  // Config and formatting (a JVM each) side by side; the nodes start once all are formatted.
  const logging = await Promise.all(
    missing.map(async (slot) => {
      const { port, controllerPort } = ports.get(slot.id)!;
      await mkdir(slot.paths.dir, { recursive: true });
      const flag = await writeNodeConfig(slot.paths, { port, controllerPort, logDir: slot.paths.logDir, nodeId: slot.id, voters });
      const formattedId = await ensureFormatted(slot.paths, options.clusterId, options.jars, flag, options.onProgress);
      if (formattedId !== options.clusterId) throw nodeOfOtherCluster(slot.paths.dir, formattedId, options.clusterId);
      return flag;
    }),
  );
  try {
    for (const [i, slot] of missing.entries()) {
      const { port, controllerPort } = ports.get(slot.id)!;
      options.onProgress(`Starting Apache Kafka ${options.jars.version} node ${slot.id} of ${slots.length} on ${address(port)}…`);
      const node = await spawnNode(slot.paths, options.jars, logging[i]!);
      const state: BrokerState = { pid: node.pid, port, controllerPort, brokers: address(port), clusterId: options.clusterId, version: options.jars.version };
      await writeBrokerState(slot.paths, state);
      slot.state = state;
      spawned.push({ slot, ...node });
    }
    // A node answers only once a majority of the quorum elected a controller: wait for them side by side.
    if (missing.length > 1) options.onProgress(`Waiting for ${missing.length} nodes to elect a controller and serve clients…`);
    await Promise.all(
      spawned.map(({ slot, logOffset, exitReason }) =>
        waitUntilReady(slot.state!.brokers, options.timeoutMs, slot.paths, logOffset, exitReason, { clusterId: options.clusterId, nodeId: slot.id }),
      ),
    );
    for (const { slot } of spawned) slot.running = true;
  } catch (error) {
    // Leave no half-started node behind; broker.json keeps each node's ports for the next try.
    await Promise.all(
      spawned.map(async ({ slot, pid }) => {
        await terminate(pid, 10_000);
        await writeBrokerState(slot.paths, { ...slot.state!, pid: null });
      }),
    );
    throw error;
  }
}

/**
 * Client and controller ports per node. Running nodes keep theirs, and so must a node started beside
 * them (its controller port is in their voter list). A cluster starting from nothing keeps the last
 * run's ports while free, else 9092, 9093, … for clients, else any free port.
 */
async function choosePorts(slots: NodeSlot[], fresh: boolean): Promise<Map<number, { port: number; controllerPort: number }>> {
  const ports = new Map<number, { port: number; controllerPort: number }>();
  const taken = new Set<number>();
  const allDown = slots.every((slot) => !slot.running);
  const unique = async (pick: () => Promise<number>): Promise<number> => {
    let port = await pick();
    while (taken.has(port)) port = await freePort();
    taken.add(port);
    return port;
  };
  for (const slot of slots.filter((s) => s.running)) {
    ports.set(slot.id, { port: slot.state!.port, controllerPort: slot.state!.controllerPort });
    taken.add(slot.state!.port).add(slot.state!.controllerPort);
  }
  for (const slot of slots.filter((s) => !s.running)) {
    if (!allDown) {
      if (slot.state === null) throw clusterPortTaken(slot.id, null);
      for (const port of [slot.state.port, slot.state.controllerPort]) {
        if (!(await isPortFree(port))) throw clusterPortTaken(slot.id, port);
      }
      ports.set(slot.id, { port: slot.state.port, controllerPort: slot.state.controllerPort });
      continue;
    }
    const port = await unique(() => (fresh ? freePort() : pickPort(slot.state?.port ?? DEFAULT_PORT + slot.id - 1)));
    const controllerPort = await unique(() => (fresh ? freePort() : pickPort(slot.state?.controllerPort)));
    ports.set(slot.id, { port, controllerPort });
  }
  return ports;
}

function describe(slots: NodeSlot[], started: number[]): LocalCluster {
  const nodes = slots.map((slot) => ({ id: slot.id, port: slot.state!.port, pid: slot.state!.pid! }));
  return { brokers: nodes.map((node) => address(node.port)).join(","), nodes, started };
}
