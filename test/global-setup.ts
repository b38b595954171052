import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { killLocalKafkaSync, parseNodeCount, startLocalKafka, stopLocalKafka } from "../runtime/kafka/local-kafka.js";

/**
 * One Kafka for the whole test run: KAFKA_BROKERS when set, else a fresh local Kafka (the same manager
 * `eddy start` uses) in a temporary data dir, stopped and deleted afterwards: one broker, or with
 * EDDY_TEST_BROKERS=3 a KRaft cluster of three nodes (`npm run test:faults`). Tests read the address
 * with `inject("brokers")` and the local Kafka's data dir with `inject("kafkaDataDir")` (null with
 * KAFKA_BROKERS); processes they spawn inherit KAFKA_BROKERS.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    project.provide("brokers", given);
    project.provide("kafkaDataDir", null);
    return async () => undefined;
  }

  const nodes = parseNodeCount("EDDY_TEST_BROKERS", process.env.EDDY_TEST_BROKERS?.trim() || "1");
  const dataDir = join(tmpdir(), `eddy-test-${randomBytes(6).toString("hex")}`);
  const started = Date.now();
  // The nodes are detached so that `eddy kafka start` can return; an interrupted run must not leave them
  // behind, including a node a fault test killed and started again (killed by what broker.json says at exit).
  const killOnExit = (): void => killLocalKafkaSync(dataDir);
  process.once("exit", killOnExit);
  const kafka = await startLocalKafka({
    dataDir,
    nodes,
    onProgress: (line) => process.stderr.write(`[test kafka] ${line}\n`),
  });
  process.stderr.write(`[test kafka] ${kafka.brokers} answered after ${Date.now() - started} ms\n`);
  project.provide("brokers", kafka.brokers);
  project.provide("kafkaDataDir", dataDir);
  process.env.KAFKA_BROKERS = kafka.brokers;

  return async () => {
    await stopLocalKafka({ dataDir });
    process.off("exit", killOnExit);
    await rm(dataDir, { recursive: true, force: true });
  };
}
