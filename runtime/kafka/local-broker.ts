import { mkdir } from "node:fs/promises";
import { fileSize, isBrokerProcess, terminate } from "./broker-process.js";
import { isClusterId, LOCAL_HOST, newClusterId } from "./broker-properties.js";
import { brokerPaths, readBrokerState, withStartLock, writeBrokerState, type BrokerPaths, type BrokerState } from "./broker-state.js";
import { resolveKafkaJars, type KafkaJars } from "./kafka-jars.js";
import { ensureFormatted, isPortTaken, spawnNode, waitUntilReady, writeNodeConfig } from "./node-launch.js";
import { freePort, pickPort, portAnswers } from "./ports.js";
import { checkJava } from "./toolchain.js";

export interface StartLocalBrokerOptions {
  /** Eddy's data dir; the broker lives in `<dataDir>/kafka`. */
  dataDir: string;
  /** An unpacked Apache Kafka (EDDY_KAFKA_HOME) to run instead of the jars resolved from Maven Central. */
  kafkaHome?: string;
  /** Human-readable progress lines (downloading, formatting, starting). */
  onProgress?: (line: string) => void;
  /** How long to wait for the broker to answer; 90 s unless given. */
  timeoutMs?: number;
}

export interface LocalBroker {
  /** The bootstrap address, `127.0.0.1:<port>`. */
  brokers: string;
  pid: number;
  /** True when a broker already running on this data dir was found and is being shared. */
  reused: boolean;
}

/** The port Kafka users expect; taken only when free, else the OS picks one. */
export const DEFAULT_PORT = 9092;
export const DEFAULT_START_TIMEOUT_MS = 90_000;
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;
/** A port found free can be taken by someone else before the broker binds it; so many tries, then give up. */
export const MAX_LAUNCH_ATTEMPTS = 3;

/**
 * Starts a single-node Kafka (KRaft) on loopback with its data in `<dataDir>/kafka`, or finds the one
 * already running there, and resolves once it serves clients. The broker runs detached: it outlives
 * this process until `stopLocalBroker`.
 *
 * @example
 * const { brokers } = await startLocalBroker({ dataDir: ".eddy", onProgress: (l) => console.error(l) });
 * // brokers === "127.0.0.1:9092"
 */
export async function startLocalBroker(options: StartLocalBrokerOptions): Promise<LocalBroker> {
  const paths = brokerPaths(options.dataDir);
  const timeoutMs = options.timeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const onProgress = options.onProgress ?? (() => undefined);
  await mkdir(paths.dir, { recursive: true });
  return withStartLock(paths, timeoutMs, async () => {
    const state = await readBrokerState(paths);
    if (state?.pid != null && isBrokerProcess(state.pid, paths.propertiesFile)) {
      const pid = state.pid;
      // It may still be starting (spawned a moment ago by another eddy process): wait for it as for our own.
      const exitReason = (): string | null => (isBrokerProcess(pid, paths.propertiesFile) ? null : "it exited");
      const expected = isClusterId(state.clusterId) ? { clusterId: state.clusterId } : undefined;
      await waitUntilReady(state.brokers, timeoutMs, paths, await fileSize(paths.logFile), exitReason, expected);
      return { brokers: state.brokers, pid, reused: true };
    }
    await checkJava();
    const jars = await resolveKafkaJars(onProgress, { kafkaHome: options.kafkaHome });
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch(paths, state, jars, { freshPorts: attempt > 1, timeoutMs, onProgress });
      } catch (error) {
        if (attempt >= MAX_LAUNCH_ATTEMPTS || !isPortTaken(error)) throw error;
        onProgress("A port was taken while the broker started; trying other ports…");
      }
    }
  });
}

/**
 * Stops the broker of `<dataDir>/kafka`: SIGTERM, so Kafka shuts down cleanly, then SIGKILL after
 * `timeoutMs` (30 s unless given). Resolves to whether one was running.
 *
 * @example
 * process.on("SIGINT", () => void stopLocalBroker({ dataDir: ".eddy" }));
 */
export async function stopLocalBroker(options: { dataDir: string; timeoutMs?: number }): Promise<boolean> {
  const paths = brokerPaths(options.dataDir);
  const state = await readBrokerState(paths);
  if (state?.pid == null) return false;
  const running = isBrokerProcess(state.pid, paths.propertiesFile);
  if (running) await terminate(state.pid, options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
  await writeBrokerState(paths, { ...state, pid: null });
  return running;
}

/**
 * Whether the broker of `<dataDir>/kafka` runs and accepts connections, and its bootstrap address if so.
 *
 * @example
 * const { running, brokers } = await localBrokerStatus({ dataDir: ".eddy" });
 */
export async function localBrokerStatus(options: { dataDir: string }): Promise<{ running: boolean; brokers: string | null }> {
  const paths = brokerPaths(options.dataDir);
  const state = await readBrokerState(paths);
  if (state?.pid == null || !isBrokerProcess(state.pid, paths.propertiesFile)) return { running: false, brokers: null };
  if (!(await portAnswers(state.port))) return { running: false, brokers: null };
  return { running: true, brokers: state.brokers };
}

interface LaunchOptions {
  /** Ignore the ports of the last run and 9092: the last attempt lost a race for one of them. */
  freshPorts: boolean;
  timeoutMs: number;
  onProgress: (line: string) => void;
}

async function launch(paths: BrokerPaths, previous: BrokerState | null, jars: KafkaJars, options: LaunchOptions): Promise<LocalBroker> {
  // The data does not pin the ports (the static voter list and the broker's registration come from
  // server.properties on each start), so a restart keeps the old ports only while they are free.
  const port = options.freshPorts ? await freePort() : await pickPort(previous?.port ?? DEFAULT_PORT);
  let controllerPort = options.freshPorts ? await freePort() : await pickPort(previous?.controllerPort);
  while (controllerPort === port) controllerPort = await freePort();
  const brokers = `${LOCAL_HOST}:${port}`;

  const logging = await writeNodeConfig(paths, { port, controllerPort, logDir: paths.logDir });
  const wantedId = previous !== null && isClusterId(previous.clusterId) ? previous.clusterId : newClusterId();
  const clusterId = await ensureFormatted(paths, wantedId, jars, logging, options.onProgress);

  options.onProgress(`Starting Apache Kafka ${jars.version} on ${brokers}…`);
  const broker = await spawnNode(paths, jars, logging);
  const state: BrokerState = { pid: broker.pid, port, controllerPort, brokers, clusterId, version: jars.version };
  await writeBrokerState(paths, state);
  try {
    await waitUntilReady(brokers, options.timeoutMs, paths, broker.logOffset, broker.exitReason, { clusterId });
  } catch (error) {
    // Leave no half-started broker behind; broker.json keeps the cluster id and ports for the next try.
    await terminate(broker.pid, 10_000);
    await writeBrokerState(paths, { ...state, pid: null });
    throw error;
  }
  return { brokers, pid: broker.pid, reused: false };
}
