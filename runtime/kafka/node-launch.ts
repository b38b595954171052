import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { isEddyError } from "../eddy-error.js";
import { brokerAnswers, type ExpectedBroker } from "./broker-probe.js";
import { fileSize, readLogTail, rotateLog, spawnDetached, type SpawnedBroker } from "./broker-process.js";
import { brokerProperties, clusterIdFromMetaProperties, log4j2Properties, type BrokerPropertiesInput } from "./broker-properties.js";
import type { BrokerPaths } from "./broker-state.js";
import { brokerStartFailed, brokerTimeout } from "./errors.js";
import type { KafkaJars } from "./kafka-jars.js";

// The steps of starting one Kafka node (a single broker, or one node of a local cluster): write its
// config, format its storage, run the JVM, wait until it serves clients.

const JVM_OPTIONS = ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"];
const POLL_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Writes the node's server.properties and log4j config; resolves to the JVM flag that points at the latter. */
export async function writeNodeConfig(paths: BrokerPaths, input: BrokerPropertiesInput): Promise<string> {
  await writeFile(paths.propertiesFile, brokerProperties(input));
  await writeFile(paths.log4jFile, log4j2Properties());
  return `-Dlog4j2.configurationFile=${paths.log4jFile}`;
}

/**
 * Formats the node's log dir with `clusterId` on its first start; resolves to the cluster id its data
 * belongs to (the one it was formatted with earlier, if it was).
 */
export async function ensureFormatted(
  paths: BrokerPaths,
  clusterId: string,
  jars: KafkaJars,
  logging: string,
  onProgress: (line: string) => void,
): Promise<string> {
  const formattedId = await formattedClusterId(paths);
  if (formattedId !== null) return formattedId;

  onProgress(`Formatting ${paths.logDir} (cluster id ${clusterId})…`);
  const args = [logging, "-cp", jars.classpath, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", paths.propertiesFile];
  const output = await new Promise<string | null>((resolve) => {
    execFile("java", args, { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve(error === null ? null : `${stdout}\n${stderr}\n${error.message}`);
    });
  });
  if (output !== null) {
    const tail = output.split("\n").filter((line) => line.trim() !== "").slice(-20).join("\n");
    throw brokerStartFailed(`formatting ${paths.logDir} failed`, "the output of kafka.tools.StorageTool format", tail);
  }
  return clusterId;
}

/** The cluster id in the node's meta.properties, or null while its log dir is not formatted. */
export async function formattedClusterId(paths: BrokerPaths): Promise<string | null> {
  const meta = await readFile(paths.metaFile, "utf8").catch(() => null);
  return meta === null ? null : clusterIdFromMetaProperties(meta);
}

export interface SpawnedNode extends SpawnedBroker {
  /** Where this start's lines begin in broker.log: what a failure quotes. */
  logOffset: number;
}

/** Runs `java … kafka.Kafka server.properties` detached, its output appended to the node's broker.log. */
export async function spawnNode(paths: BrokerPaths, jars: KafkaJars, logging: string): Promise<SpawnedNode> {
  await rotateLog(paths.logFile);
  const logOffset = await fileSize(paths.logFile);
  const args = [...JVM_OPTIONS, logging, "-cp", jars.classpath, "kafka.Kafka", paths.propertiesFile];
  return { ...spawnDetached(args, paths.logFile), logOffset };
}

/**
 * Polls every 250 ms until the broker serves clients, and is the one `expected` names when given (a
 * port can be taken by another Kafka between picking it and binding it). Fails at once with the log's
 * last lines if the process exits, or with EDDY_BROKER_TIMEOUT after `timeoutMs`.
 */
export async function waitUntilReady(
  brokers: string,
  timeoutMs: number,
  paths: BrokerPaths,
  logOffset: number,
  exitReason: () => string | null,
  expected?: ExpectedBroker,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const exited = exitReason();
    if (exited !== null) throw brokerStartFailed(exited, paths.logFile, await readLogTail(paths.logFile, logOffset));
    if (await brokerAnswers(brokers, expected)) return;
    if (Date.now() >= deadline) throw brokerTimeout(`did not answer on ${brokers}`, timeoutMs, paths.logFile);
    await sleep(POLL_MS);
  }
}

/** Whether a start failed because a port it was given was taken meanwhile (worth another try on other ports). */
export function isPortTaken(error: unknown): boolean {
  return (
    isEddyError(error) &&
    error.code === "EDDY_BROKER_START_FAILED" &&
    /Address already in use|BindException/.test(error.message)
  );
}
