import { createTopic } from "../lib/kafka-tools.js";
import { BaselineProcess, childPids, rssMb } from "../lib/processes.js";
import { progress, sleep } from "../lib/progress.js";
import type { BenchContext, Scenario } from "../lib/scenario.js";
import { fmt, fmtRatio, ratio } from "../lib/stats.js";

const WORKER_MARKER = "worker-main.js";

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
}

interface BaselineMemory {
  consumers: number;
  processMb: number;
}

/** Resident memory of idle Eddy workers (one process per function) and of the control plane, with 1 function and then more. */
async function eddyMemory(context: BenchContext, counts: number[], settleMs: number): Promise<EddyMemory[]> {
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
      const controlPlaneMb = rssMb(eddy.pid) ?? Number.NaN;
      progress(`  Eddy, ${count} idle function(s): workers ${workers.map((w) => fmt(w, 0)).join(" + ")} MB, control plane ${fmt(controlPlaneMb, 0)} MB`);
      measured.push({ functions: count, workers, controlPlaneMb });
    }
  } finally {
    await eddy.stop();
  }
  return measured;
}

/** A bare kafkajs process with `consumers` idle consumers, each in its own group on its own topic. */
async function baselineMemory(context: BenchContext, consumers: number, settleMs: number): Promise<BaselineMemory> {
  const topics = Array.from({ length: consumers }, (_, i) => `bench.memory.${i}`);
  const baseline = await BaselineProcess.start({ mode: "idle", brokers: context.brokers, groupId: `bench.memory.kafkajs.${consumers}`, topics }, 90_000);
  try {
    await sleep(settleMs);
    const processMb = rssMb(baseline.pid) ?? Number.NaN;
    progress(`  kafkajs, ${consumers} idle consumer(s) in one process: ${fmt(processMb, 0)} MB`);
    return { consumers, processMb };
  } finally {
    await baseline.stop();
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** Scenario 6: resident memory of an idle worker with 1 function, and with 10. */
export const memory: Scenario = {
  id: "memory",
  number: 6,
  title: "Memory",
  async run(context) {
    const { functions, settleMs } = context.options.sizes.memory;
    for (let i = 0; i < Math.max(...functions); i++) await createTopic(context.admin, `bench.memory.${i}`, 1);
    const baselines: BaselineMemory[] = [];
    for (const count of functions) baselines.push(await baselineMemory(context, count, settleMs));
    const eddy = await eddyMemory(context, functions, settleMs);

    const rows: string[][] = [];
    for (const [k, count] of functions.entries()) {
      const base = baselines[k]!;
      const measured = eddy[k]!;
      const workersTotal = sum(measured.workers);
      rows.push([`kafkajs: ${count} idle consumer${count > 1 ? "s" : ""} in one process`, "1", fmt(base.processMb, 0), "—", "—", fmt(base.processMb, 0), "1.00× (baseline)"]);
      rows.push([
        `Eddy: ${count} idle function${count > 1 ? "s" : ""}`,
        String(measured.workers.length),
        fmt(workersTotal, 0),
        fmt(workersTotal / measured.workers.length, 0),
        fmt(measured.controlPlaneMb, 0),
        fmt(workersTotal + measured.controlPlaneMb, 0),
        fmtRatio(ratio(workersTotal, base.processMb)),
      ]);
    }
    return {
      setup:
        `Resident memory (VmRSS from /proc) ${settleMs / 1000} s after the last worker reported ready, nothing flowing. ` +
        `Eddy runs one worker process per function (its isolate with a 128 MB heap limit, its kafkajs consumer and producer), beside the control plane (\`eddy start\`: HTTP API, registry, supervisor); ` +
        `the functions are deployed on one \`eddy start\`, ${functions.join(", then up to ")}. ` +
        `Baseline: one Node process running that many bare kafkajs consumers (each its own group and topic), connected and idle.`,
      columns: ["what", "processes", "workers / consumer process MB", "per worker MB", "control plane MB", "total MB", "workers vs baseline"],
      rows,
      targets: [],
      notes: ["The issue sets no target here."],
      data: { functions, settleMs, eddy, baselines },
    };
  },
};
