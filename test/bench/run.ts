/**
 * `npm run bench [-- --quick] [-- --only a,b]`: Eddy against a bare kafkajs consumer (issue 6).
 * Starts its own local broker (the same manager `eddy start` uses) in a scratch folder, runs each
 * scenario beside its baseline on it, one at a time, writes the figures as JSON and rewrites
 * docs/benchmarks.md (a full run) or test/bench/results/quick.md (--quick or --only). Progress goes
 * to stderr. Everything listens and connects on 127.0.0.1 only, and every wait has a time limit.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { Admin } from "kafkajs";
import { startLocalBroker, stopLocalBroker } from "../../runtime/kafka/local-broker.js";
import { EddyInstance, ROOT } from "./lib/eddy-instance.js";
import { benchKafka } from "./lib/kafka-tools.js";
import { machineInfo } from "./lib/machine.js";
import { parseOptions } from "./lib/options.js";
import { progress } from "./lib/progress.js";
import type { BenchContext, Scenario, ScenarioReport } from "./lib/scenario.js";
import { renderReport, type BenchResults } from "./report.js";
import { coldStart } from "./scenarios/cold-start.js";
import { latency } from "./scenarios/latency.js";
import { memory } from "./scenarios/memory.js";
import { sandboxOverhead } from "./scenarios/sandbox-overhead.js";
import { scaleOut } from "./scenarios/scale-out.js";
import { scalerSimulation } from "./scenarios/scaler-simulation.js";
import { slowHandler } from "./scenarios/slow-handler.js";
import { stateful } from "./scenarios/stateful.js";
import { throughput } from "./scenarios/throughput.js";
import { tracing } from "./scenarios/tracing.js";
import { workerProfile } from "./scenarios/worker-profile.js";

// The simulation comes after scale-out, whose measured figures (a replica's rate, a rebalance's pause) it uses.
const SCENARIOS: Scenario[] = [throughput, latency, slowHandler, sandboxOverhead, coldStart, memory, scaleOut, scalerSimulation, workerProfile, tracing, stateful];

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = performance.now();
  const date = new Date();
  const machine = machineInfo();
  progress(`${options.command}: ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, Kafka ${machine.kafka}, load ${machine.loadAverageAtStart.join(" ")}`);

  const workDir = await mkdtemp(path.join(os.tmpdir(), "eddy-bench-"));
  const brokerDir = path.join(workDir, "broker");
  const instances = new Set<EddyInstance>();
  let admin: Admin | undefined;
  let brokerPid: number | undefined;
  // The broker is detached; an interrupted bench must not leave it running.
  const killBroker = (): void => {
    if (brokerPid === undefined) return;
    try {
      process.kill(brokerPid, "SIGKILL");
    } catch {
      // Already gone.
    }
  };
  process.once("exit", killBroker);
  const interrupted = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping`);
    for (const instance of instances) instance.child.kill("SIGKILL");
    killBroker();
    void rm(workDir, { recursive: true, force: true }).finally(() => process.exit(130));
  };
  process.once("SIGINT", interrupted);
  // kafkajs can leave a rejected promise unhandled inside its retries; that must not end a long run.
  process.on("unhandledRejection", (reason) => progress(`unhandled rejection (ignored): ${reason instanceof Error ? reason.message : String(reason)}`));
  process.once("SIGTERM", interrupted);

  try {
    progress("starting a local Kafka broker");
    const brokerFrom = performance.now();
    const broker = await startLocalBroker({ dataDir: brokerDir, onProgress: (line) => progress(`  kafka: ${line}`) }).catch(async (error: unknown) => {
      // One retry on a clean folder: formatting fails now and then (e.g. a random cluster id that
      // starts with "-" is read as an option by kafka-storage), and a fresh id fixes that.
      progress(`  the broker did not start (${(error instanceof Error ? error.message : String(error)).split("\n")[0]}); retrying once`);
      await rm(brokerDir, { recursive: true, force: true });
      return startLocalBroker({ dataDir: brokerDir, onProgress: (line) => progress(`  kafka: ${line}`) });
    });
    brokerPid = broker.pid;
    progress(`  Kafka ${machine.kafka} answers at ${broker.brokers} after ${((performance.now() - brokerFrom) / 1000).toFixed(1)} s`);
    const kafka = benchKafka(broker.brokers);
    admin = kafka.admin();
    await admin.connect();

    let eddyCount = 0;
    const context: BenchContext = {
      options,
      brokers: broker.brokers,
      brokerPid: broker.pid,
      kafka,
      admin,
      workDir,
      async startEddy(label, env) {
        eddyCount += 1;
        const instance = await EddyInstance.start({
          brokers: broker.brokers,
          dataDir: path.join(workDir, `eddy-${eddyCount}`),
          // A fresh prefix is a fresh registry: no function of an earlier instance comes back.
          topicPrefix: `bench${eddyCount}.`,
          env,
        });
        instances.add(instance);
        instance.child.once("exit", () => instances.delete(instance));
        progress(`    eddy start #${eddyCount} (${label}) up at ${instance.url}`);
        return instance;
      },
    };

    const reports: ScenarioReport[] = [];
    for (const scenario of SCENARIOS) {
      if (options.only.length > 0 && !options.only.includes(scenario.id)) continue;
      progress(`scenario ${scenario.number}: ${scenario.title}`);
      const from = performance.now();
      const loadBefore = os.loadavg()[0]!;
      const base = { id: scenario.id, number: scenario.number, title: scenario.title };
      try {
        const body = await scenario.run(context);
        reports.push({ ...base, ...body, durationMs: performance.now() - from, loadAverage: { before: loadBefore, after: os.loadavg()[0]! } });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        progress(`  scenario ${scenario.number} failed: ${message}`);
        reports.push({
          ...base,
          setup: "",
          columns: [],
          rows: [],
          targets: [],
          notes: [],
          data: {},
          durationMs: performance.now() - from,
          loadAverage: { before: loadBefore, after: os.loadavg()[0]! },
          error: message,
        });
      } finally {
        // Whatever a scenario left running must not share the machine with the next one.
        await Promise.all([...instances].map((instance) => instance.stop()));
      }
      progress(`  scenario ${scenario.number} took ${((performance.now() - from) / 1000).toFixed(1)} s`);
    }

    const full = !options.quick && options.only.length === 0;
    const resultsDir = path.join(ROOT, "test/bench/results");
    const jsonFile = path.join(resultsDir, full ? "latest.json" : "quick.json");
    const results: BenchResults = {
      command: options.command,
      mode: options.quick ? "quick" : "full",
      date: date.toISOString(),
      durationMs: performance.now() - startedAt,
      machine,
      sizes: options.sizes,
      scenarios: reports,
      rawFile: path.relative(ROOT, jsonFile),
    };
    await mkdir(resultsDir, { recursive: true });
    const markdownFile = full ? path.join(ROOT, "docs/benchmarks.md") : path.join(resultsDir, "quick.md");
    // The run's total is known only now; the report includes the time to write it (negligible).
    await writeFile(jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    await writeFile(markdownFile, renderReport(results));
    progress(`wrote ${path.relative(ROOT, jsonFile)} and ${path.relative(ROOT, markdownFile)}`);
  } finally {
    await Promise.all([...instances].map((instance) => instance.stop()));
    await admin?.disconnect().catch(() => undefined);
    progress("stopping the broker");
    await stopLocalBroker({ dataDir: brokerDir }).catch(() => killBroker());
    process.off("exit", killBroker);
    await rm(workDir, { recursive: true, force: true });
    progress(`done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    progress(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
