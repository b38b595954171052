import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { bundleFunction } from "../../../runtime/sandbox/bundler.js";
import { FunctionSandbox } from "../../../runtime/sandbox/function-sandbox.js";
import { BUNDLE_GLOBAL_NAME } from "../../../runtime/sandbox/wire.js";
import { createEvent } from "../../../sdk/event.js";
import { createTopic, produceRecords, startReader } from "../lib/kafka-tools.js";
import { BaselineProcess } from "../lib/processes.js";
import { progress, sleep, wallMs } from "../lib/progress.js";
import type { BenchContext, Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtRatio, median, ratio } from "../lib/stats.js";

const TARGET_ISOLATE_MS = 50;
/** Issue 11: from the deploy request to the first record processed, median. */
const TARGET_FIRST_RECORD_MS = 500;
const OUT_TOPIC = "bench.cold.out";
const FIRST_RECORD_TIMEOUT_MS = 60_000;
const FIRST_SANDBOX_CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), "../lib/first-sandbox-child.js");

function coldSource(index: number): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "cold-${index}",
  topics: ["bench.cold.${index}"],
  startFrom: "earliest",
  async handle(event, ctx) {
    await ctx.emit("${OUT_TOPIC}", "${index}");
  },
});
`;
}

interface Spread {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

function spread(samples: number[]): Spread {
  return { median: median(samples), min: Math.min(...samples), max: Math.max(...samples), samples };
}

function fmtSpread(s: Spread, digits = 0): string {
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** Deploy → first record processed, per new function: each on its own topic holding one record, which it relays to OUT_TOPIC. */
async function eddyColdStarts(context: BenchContext, deploys: number): Promise<{ deployMs: Spread; firstRecordMs: Spread }> {
  for (let i = 0; i < deploys; i++) {
    await createTopic(context.admin, `bench.cold.${i}`, 1);
    await produceRecords(context.kafka, `bench.cold.${i}`, 1, () => ({ value: Buffer.from("cold") }), { partitions: 1 });
  }
  await createTopic(context.admin, OUT_TOPIC, 1);
  const arrived = new Map<number, number>();
  const reader = await startReader(context.kafka, OUT_TOPIC, (message) => arrived.set(Number(message.value!.toString()), performance.now()));
  const eddy = await context.startEddy("cold start");
  const deployMs: number[] = [];
  const firstRecordMs: number[] = [];
  try {
    for (let i = 0; i < deploys; i++) {
      const from = performance.now();
      await eddy.deploy(coldSource(i));
      deployMs.push(performance.now() - from);
      const until = from + FIRST_RECORD_TIMEOUT_MS;
      while (!arrived.has(i) && performance.now() < until) {
        const failure = eddy.workerFailure();
        if (failure) throw new Error(failure);
        await sleep(5);
      }
      const at = arrived.get(i);
      if (at === undefined) throw new Error(`cold-${i}: no record processed within ${FIRST_RECORD_TIMEOUT_MS / 1000} s of the deploy:\n${eddy.logTail(1_500)}`);
      firstRecordMs.push(at - from);
      progress(`  cold-${i}: deploy answered in ${fmt(deployMs.at(-1)!, 0)} ms, first record processed ${fmt(firstRecordMs.at(-1)!, 0)} ms after the deploy request`);
    }
  } finally {
    await eddy.stop();
    await reader.disconnect();
  }
  return { deployMs: spread(deployMs), firstRecordMs: spread(firstRecordMs) };
}

/** The baseline: spawning a bare kafkajs consumer process → its first record processed. */
async function kafkajsColdStarts(context: BenchContext, runs: number): Promise<Spread> {
  const topic = "bench.cold.kafkajs";
  await createTopic(context.admin, topic, 1);
  await produceRecords(context.kafka, topic, 1, () => ({ value: Buffer.from("cold") }), { partitions: 1 });
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const from = performance.now();
    const consumer = await BaselineProcess.start({ mode: "noop-batch", brokers: context.brokers, groupId: `bench.cold.kafkajs.${i}`, topic });
    try {
      const until = from + FIRST_RECORD_TIMEOUT_MS;
      while (consumer.progress.length === 0 && performance.now() < until) await sleep(5);
      const first = consumer.progress[0];
      if (!first) throw new Error(`the kafkajs consumer processed nothing within ${FIRST_RECORD_TIMEOUT_MS / 1000} s`);
      samples.push(first.at - from);
    } finally {
      await consumer.stop();
    }
  }
  progress(`  kafkajs process start → first record: median ${fmt(median(samples), 0)} ms`);
  return spread(samples);
}

interface IsolateTimes {
  bundleMs: Spread;
  createMs: Spread;
  firstCallMs: Spread;
  readyMs: Spread;
  /** The first sandbox of a fresh process, as a new worker pays it: it also bundles the in-isolate harness with esbuild. */
  firstInProcess: { createMs: Spread; firstCallMs: Spread; readyMs: Spread };
  direct: { evalMs: Spread; firstCallMs: Spread };
}

/** FunctionSandbox.create (isolate, context, harness, bundle compile + run, load) + the first invoke, against evaluating the bundle in this process. */
async function isolateColdStarts(context: BenchContext, count: number): Promise<IsolateTimes> {
  const source = `import { defineFunction } from "eddy/sdk";\nexport default defineFunction({ name: "cold-isolate", topics: ["bench.cold"], async handle(event, ctx) { await ctx.emit("out", event.text()); } });\n`;
  const record = { topic: "bench.cold", partition: 0, offset: "0", timestamp: Date.now(), key: null, value: new TextEncoder().encode("cold"), headers: {} };
  const bundleMs: number[] = [];
  const createMs: number[] = [];
  const firstCallMs: number[] = [];
  const evalMs: number[] = [];
  const directCallMs: number[] = [];
  for (let i = 0; i <= count; i++) {
    const bundleFrom = performance.now();
    // A distinct source each time, so that no cache anywhere serves a later round.
    const code = await bundleFunction({ source: `${source}// round ${i}\n` });
    const created = performance.now();
    const sandbox = await FunctionSandbox.create({ code, memoryMb: 128, env: {}, function: { name: "cold-isolate", version: 1 }, onLog: () => undefined });
    const ready = performance.now();
    const result = await sandbox.invoke([record], { attempt: 1, timeoutMs: 10_000 });
    const called = performance.now();
    sandbox.dispose();
    if (result.outcomes[0]?.status !== "ok") throw new Error(`the first call failed: ${JSON.stringify(result.outcomes[0])}`);

    const evalFrom = performance.now();
    const module = new Function(`${code}\nreturn ${BUNDLE_GLOBAL_NAME};`)() as { default: { handle: (e: unknown, c: unknown) => Promise<void> } };
    const evaluated = performance.now();
    await module.default.handle(createEvent(record), { emit: async () => undefined, log: console, env: {}, attempt: 1, function: { name: "cold-isolate", version: 1 } });
    const directCalled = performance.now();

    // Round 0 warms this process (the harness bundle is built once per process); the child processes below time that part.
    if (i === 0) continue;
    bundleMs.push(created - bundleFrom);
    createMs.push(ready - created);
    firstCallMs.push(called - ready);
    evalMs.push(evaluated - evalFrom);
    directCallMs.push(directCalled - evaluated);
  }
  const readyMs = createMs.map((c, k) => c + firstCallMs[k]!);

  const bundleFile = path.join(context.workDir, "cold-isolate.js");
  await writeFile(bundleFile, await bundleFunction({ source }));
  const fresh: { createMs: number; firstCallMs: number }[] = [];
  for (let i = 0; i < Math.min(count, 5); i++) {
    const { stdout } = await promisify(execFile)(process.execPath, ["--no-node-snapshot", FIRST_SANDBOX_CHILD, bundleFile], { timeout: 30_000 });
    const figures = JSON.parse(stdout.trim()) as { createMs: number; firstCallMs: number; ok: boolean };
    if (!figures.ok) throw new Error("the first call in a fresh process failed");
    fresh.push(figures);
  }
  const firstInProcess = {
    createMs: spread(fresh.map((f) => f.createMs)),
    firstCallMs: spread(fresh.map((f) => f.firstCallMs)),
    readyMs: spread(fresh.map((f) => f.createMs + f.firstCallMs)),
  };
  progress(`  isolate create + first call: median ${fmt(median(readyMs), 1)} ms (first in a fresh process: ${fmt(firstInProcess.readyMs.median, 1)} ms)`);
  return {
    bundleMs: spread(bundleMs),
    createMs: spread(createMs),
    firstCallMs: spread(firstCallMs),
    readyMs: spread(readyMs),
    firstInProcess,
    direct: { evalMs: spread(evalMs), firstCallMs: spread(directCallMs) },
  };
}

/** Scenario 5: deploy → first record processed (median of 10), and isolate create + compile + first call. */
export const coldStart: Scenario = {
  id: "cold-start",
  number: 5,
  title: "Cold start",
  async run(context) {
    const { deploys, isolates } = context.options.sizes.coldStart;
    const isolate = await isolateColdStarts(context, isolates);
    const kafkajs = await kafkajsColdStarts(context, deploys);
    const eddy = await eddyColdStarts(context, deploys);

    const isolateMet = isolate.readyMs.median <= TARGET_ISOLATE_MS;
    const directReady = isolate.direct.evalMs.samples.map((e, k) => e + isolate.direct.firstCallMs.samples[k]!);
    const firstRecordMet = eddy.firstRecordMs.median <= TARGET_FIRST_RECORD_MS;
    const targets: TargetCheck[] = [
      { scenario: "5. Cold start", goal: `isolate ready (create + compile + first call) ≤ ${TARGET_ISOLATE_MS} ms`, measured: `median ${fmt(isolate.readyMs.median, 1)} ms of ${isolates}`, met: isolateMet },
      {
        scenario: "5. Cold start",
        goal: `deploy request → first record processed ≤ ${TARGET_FIRST_RECORD_MS} ms (median)`,
        measured: `median ${fmt(eddy.firstRecordMs.median, 0)} ms of ${deploys} (kafkajs process start → first record ${fmt(kafkajs.median, 0)} ms)`,
        met: firstRecordMet,
      },
    ];
    const rows = [
      ["kafkajs: process start → first record processed", `median of ${deploys}`, fmtSpread(kafkajs), "1.00× (baseline)", "—", "—"],
      ["Eddy: deploy request → answer", `median of ${deploys}`, fmtSpread(eddy.deployMs), "—", "—", "—"],
      ["Eddy: deploy request → first record processed", `median of ${deploys}`, fmtSpread(eddy.firstRecordMs), fmtRatio(ratio(eddy.firstRecordMs.median, kafkajs.median)), `≤ ${TARGET_FIRST_RECORD_MS} ms`, firstRecordMet ? "yes" : "no"],
      ["bundle (esbuild, at deploy)", `median of ${isolates}`, fmtSpread(isolate.bundleMs, 1), "—", "—", "—"],
      ["direct: evaluate the bundle + first call, in process", `median of ${isolates}`, fmtSpread(spread(directReady), 2), "1.00× (baseline)", "—", "—"],
      ["isolate create + harness + compile + load", `median of ${isolates}`, fmtSpread(isolate.createMs, 1), "—", "—", "—"],
      ["isolate first call (1 record)", `median of ${isolates}`, fmtSpread(isolate.firstCallMs, 2), "—", "—", "—"],
      [
        "isolate ready: create + first call",
        `median of ${isolates}`,
        fmtSpread(isolate.readyMs, 1),
        fmtRatio(ratio(isolate.readyMs.median, median(directReady))),
        `≤ ${TARGET_ISOLATE_MS} ms`,
        isolateMet ? "yes" : "no",
      ],
      [
        "isolate ready, first sandbox of a fresh process (+ loading the harness)",
        `median of ${isolate.firstInProcess.readyMs.samples.length}`,
        fmtSpread(isolate.firstInProcess.readyMs, 1),
        "—",
        "—",
        "—",
      ],
    ];
    return {
      setup:
        `Eddy: one \`eddy start\`, then ${deploys} new functions deployed one after another, each on its own 1-partition topic that already holds one record (\`startFrom: "earliest"\`); ` +
        `the function relays it to an output topic, where a reader in the bench process notes its arrival. Time from sending the deploy request to that arrival; ` +
        `the functions deployed before keep running (idle) while the next one starts. Baseline: a bare kafkajs consumer process spawned ${deploys} times on a topic holding one record, ` +
        `time from the spawn to its first finished batch (Node start, connect, group join, fetch). ` +
        `Isolate: in the bench process, \`FunctionSandbox.create\` (isolate, context, harness, compiling and running the bundle, loading the definition) and the first \`invoke\` of one record, ` +
        `${isolates} times after one unmeasured round, against evaluating the same bundle in this process and calling it; and the first sandbox of a fresh Node process, ` +
        `which is what a new worker pays (it loads the in-isolate harness, bundled once at build time). ` +
        `Figures in ms: median (min–max).`,
      columns: ["what", "runs", "ms: median (min–max)", "vs baseline", "target", "met"],
      rows,
      targets,
      notes: [],
      data: { deploys, isolates, eddy, kafkajs, isolate },
    };
  },
};
