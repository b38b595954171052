import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startLocalBroker, stopLocalBroker } from "../runtime/kafka/local-broker.js";

/**
 * One Kafka for the whole test run: KAFKA_BROKERS when set, else a fresh local broker (the same manager
 * `eddy start` uses) in a temporary data dir, stopped and deleted afterwards. Tests read the address
 * with `inject("brokers")`; processes they spawn inherit KAFKA_BROKERS.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const given = process.env.KAFKA_BROKERS?.trim();
  if (given) {
    project.provide("brokers", given);
    return async () => undefined;
  }

  const dataDir = join(tmpdir(), `eddy-test-${randomBytes(6).toString("hex")}`);
  const started = Date.now();
  const broker = await startLocalBroker({
    dataDir,
    onProgress: (line) => process.stderr.write(`[test kafka] ${line}\n`),
  });
  process.stderr.write(`[test kafka] ${broker.brokers} answered after ${Date.now() - started} ms\n`);
  project.provide("brokers", broker.brokers);
  process.env.KAFKA_BROKERS = broker.brokers;

  // The broker is detached so that `eddy kafka start` can return; an interrupted run must not leave it behind.
  const killOnExit = (): void => {
    try {
      process.kill(broker.pid, "SIGKILL");
    } catch {
      // Already stopped.
    }
  };
  process.once("exit", killOnExit);

  return async () => {
    process.off("exit", killOnExit);
    await stopLocalBroker({ dataDir });
    await rm(dataDir, { recursive: true, force: true });
  };
}
