import { createTopic } from "../lib/kafka-tools.js";
import { BaselineProcess, childPids, cpuPercent, pidsByCommand, rssMb } from "../lib/processes.js";
import { progress, sleep } from "../lib/progress.js";
import type { BenchContext, Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtRatio, median, ratio } from "../lib/stats.js";

// A replica retitles itself "eddy worker-main <function>#<replica>" (worker-main.ts): no ".js" left to match.
const WORKER_MARKER = "worker-main";
const INSPECT_MARKER = "inspect-child.js";
const STANDBY_MARKER = "standby-main.js";
/** How the broker's process shows on its command line (runtime/kafka/local-broker.ts). */
const BROKER_MARKER = "kafka.Kafka";
/** Issue 11's goals for an idle worker. */
const TARGET_WORKER_MB = 60;
const TARGET_WORKER_CPU_PERCENT = 0.5;

function idleSource(index: number): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "idle-${index}", topics: ["bench.memory.${index}"], handle() {} });
`;
}

interface EddyMemory {
  functions: number;
  workers: number[];
  controlPlaneMb: number;
  /** Percent of a core over the CPU window: each worker, the control plane, the broker meanwhile. */
  workersCpu: number[];
  controlPlaneCpu: number;
  brokerCpu: number;
}

interface BaselineMemory {
  consumers: number;
  processMb: number;
  processCpu: number;
  brokerCpu: number;
}

/** Percent of a core the broker used while `pids` were measured over the window, with theirs. */
async function cpuWithBroker(pids: number[], windowMs: number): Promise<{ cpu: number[]; brokerCpu: number }> {
  const broker = pidsByCommand(BROKER_MARKER);
  const all = await cpuPercent([...pids, ...broker], windowMs);
  return { cpu: all.slice(0, pids.length), brokerCpu: all.slice(pids.length).reduce((a, b) => a + b, 0) };
}

/** Resident memory of idle Eddy workers (one process per function) and of the control plane, with 1 function and then more. */
async function eddyMemory(context: BenchContext, counts: number[], settleMs: number, cpuWindowMs: number): Promise<EddyMemory[]> {
  const eddy = await context.startEddy("memory");
  const measured: EddyMemory[] = [];
  try {
    let deployed = 0;
    for (const count of counts) {
      for (; deployed < count; deployed++) {
        await eddy.deploy(idleSource(deployed));
        await eddy.waitReady(`idle-${deployed}`);
      }
      await sleep(settleMs);
      const pids = childPids(eddy.pid, WORKER_MARKER);
      if (pids.length !== count) throw new Error(`expected ${count} worker processes under eddy start, found ${pids.length}`);
      const workers = pids.map((pid) => rssMb(pid) ?? Number.NaN);
      // The control plane keeps a process warm for inspecting the next deploy's bundle, and a standby worker: counted with it.
      const helpers = [...childPids(eddy.pid, INSPECT_MARKER), ...childPids(eddy.pid, STANDBY_MARKER)];
      const controlPlaneMb = [eddy.pid, ...helpers].reduce((mb, pid) => mb + (rssMb(pid) ?? Number.NaN), 0);
      const { cpu, brokerCpu } = await cpuWithBroker([...pids, eddy.pid], cpuWindowMs);
      const workersCpu = cpu.slice(0, pids.length);
      const controlPlaneCpu = cpu.at(-1)!;
      progress(`  Eddy, ${count} idle function(s): workers ${workers.map((w) => fmt(w, 0)).join(" + ")} MB, control plane ${fmt(controlPlaneMb, 0)} MB; CPU per worker ${fmt(median(workersCpu), 2)} %, broker ${fmt(brokerCpu, 1)} %`);
      measured.push({ functions: count, workers, controlPlaneMb, workersCpu, controlPlaneCpu, brokerCpu });
    }
  } finally {
    await eddy.stop();
  }
  return measured;
}

/** A bare kafkajs process with `consumers` idle consumers, each in its own group on its own topic. */
async function baselineMemory(context: BenchContext, consumers: number, settleMs: number, cpuWindowMs: number): Promise<BaselineMemory> {
  const topics = Array.from({ length: consumers }, (_, i) => `bench.memory.${i}`);
  const baseline = await BaselineProcess.start({ mode: "idle", brokers: context.brokers, groupId: `bench.memory.kafkajs.${consumers}`, topics }, 90_000);
  try {
    await sleep(settleMs);
    const processMb = rssMb(baseline.pid) ?? Number.NaN;
    const { cpu, brokerCpu } = await cpuWithBroker([baseline.pid], cpuWindowMs);
    progress(`  kafkajs, ${consumers} idle consumer(s) in one process: ${fmt(processMb, 0)} MB, CPU ${fmt(cpu[0], 2)} %`);
    return { consumers, processMb, processCpu: cpu[0]!, brokerCpu };
  } finally {
    await baseline.stop();
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Scenario 6: resident memory and CPU of idle workers with 1 function, and with 10. */
export const memory: Scenario = {
  id: "memory",
  number: 6,
  title: "Memory and idle CPU",
  async run(context) {
    const { functions, settleMs, cpuWindowMs } = context.options.sizes.memory;
    for (let i = 0; i < Math.max(...functions); i++) await createTopic(context.admin, `bench.memory.${i}`, 1);
    const baselines: BaselineMemory[] = [];
    for (const count of functions) baselines.push(await baselineMemory(context, count, settleMs, cpuWindowMs));
    const eddy = await eddyMemory(context, functions, settleMs, cpuWindowMs);

    const rows: string[][] = [];
    for (const [k, count] of functions.entries()) {
      const base = baselines[k]!;
      const measured = eddy[k]!;
      const workersTotal = sum(measured.workers);
      rows.push([
        `kafkajs: ${count} idle consumer${count > 1 ? "s" : ""} in one process`,
        "1",
        fmt(base.processMb, 0),
        "—",
        "—",
        fmt(base.processMb, 0),
        "1.00× (baseline)",
        fmt(base.processCpu, 2),
        "—",
        fmt(base.brokerCpu, 1),
      ]);
      rows.push([
        `Eddy: ${count} idle function${count > 1 ? "s" : ""}`,
        String(measured.workers.length),
        fmt(workersTotal, 0),
        fmt(workersTotal / measured.workers.length, 0),
        fmt(measured.controlPlaneMb, 0),
        fmt(workersTotal + measured.controlPlaneMb, 0),
        fmtRatio(ratio(workersTotal, base.processMb)),
        `${fmt(median(measured.workersCpu), 2)} (max ${fmt(Math.max(...measured.workersCpu), 2)})`,
        fmt(measured.controlPlaneCpu, 2),
        fmt(measured.brokerCpu, 1),
      ]);
    }
    const perWorkerMb = eddy.map((e) => sum(e.workers) / e.workers.length);
    const workerCpu = eddy.flatMap((e) => e.workersCpu);
    const targets: TargetCheck[] = [
      {
        scenario: "6. Memory and idle CPU",
        goal: `idle worker resident memory ≤ ${TARGET_WORKER_MB} MB`,
        measured: `${eddy.map((e, k) => `${fmt(perWorkerMb[k], 0)} MB a worker with ${e.functions} function${e.functions > 1 ? "s" : ""}`).join(", ")}`,
        met: perWorkerMb.every((mb) => mb <= TARGET_WORKER_MB),
      },
      {
        scenario: "6. Memory and idle CPU",
        goal: `CPU of an idle worker ≤ ${TARGET_WORKER_CPU_PERCENT} % of a core`,
        measured: `median ${fmt(median(workerCpu), 2)} %, highest ${fmt(Math.max(...workerCpu), 2)} % (over ${workerCpu.length} worker windows of ${cpuWindowMs / 1000} s)`,
        met: Math.max(...workerCpu) <= TARGET_WORKER_CPU_PERCENT,
      },
    ];
    return {
      setup:
        `Resident memory (VmRSS from /proc) ${settleMs / 1000} s after the last worker reported ready, nothing flowing; then CPU time (user + system, from /proc/<pid>/stat) over the next ${cpuWindowMs / 1000} s, ` +
        `as percent of one core, of each process and of the broker meanwhile. ` +
        `Eddy runs one worker process per function (its isolate with a 128 MB heap limit, its kafkajs consumer and producer), beside the control plane (\`eddy start\`: HTTP API, registry, supervisor, scaler; its figure includes the process it keeps warm to inspect the next deploy's bundle and the standby worker, booted ahead for the next replica to start); ` +
        `the functions are deployed on one \`eddy start\`, ${functions.join(", then up to ")}, each kept at one replica (scaling minReplicas and maxReplicas 1, as every bench function unless said otherwise). ` +
        `Baseline: one Node process running that many bare kafkajs consumers (each its own group and topic), connected and idle.`,
      columns: ["what", "processes", "workers / consumer process MB", "per worker MB", "control plane MB", "total MB", "workers vs baseline", "CPU % per worker / consumer process", "control plane CPU %", "broker CPU %"],
      rows,
      targets,
      notes: [],
      data: { functions, settleMs, cpuWindowMs, eddy, baselines },
    };
  },
};
