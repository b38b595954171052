import { mkdir, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { summarizeCpuProfile } from "../lib/cpu-profile.js";
import { ROOT } from "../lib/eddy-instance.js";
import { createTopic, paddedValue, produceRecords } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario } from "../lib/scenario.js";
import { fmt, fmtInt } from "../lib/stats.js";
import { runEddyFunction } from "../lib/variants.js";

const TOPIC = "bench.profile";
const TOP_FUNCTIONS = 15;

const noopSource = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "profile-handle", topics: ["${TOPIC}"], startFrom: "earliest", handle() {} });
`;

/** The largest profile in `dir`: the worker's (it ran longest and busiest). */
async function largestProfile(dir: string): Promise<string | null> {
  const files = (await readdir(dir)).filter((f) => f.endsWith(".cpuprofile"));
  let best: { file: string; size: number } | null = null;
  for (const file of files) {
    const { size } = await stat(path.join(dir, file));
    if (best === null || size > best.size) best = { file: path.join(dir, file), size };
  }
  return best?.file ?? null;
}

/**
 * Scenario 9: where a worker's main thread spends its time on the per-record path. Eddy with a
 * no-op `handle` consumes a pre-produced topic with `EDDY_WORKER_CPU_PROF` set (`node --cpu-prof`
 * in each worker); the profile, written when the worker exits, is summarized to the functions with
 * the most self time. It steers the work on scenario 1: each change should move a row here.
 */
export const workerProfile: Scenario = {
  id: "profile",
  number: 9,
  title: "Profile of the per-record path",
  async run(context) {
    const { records, partitions, valueBytes, timeoutMs } = context.options.sizes.profile;
    await createTopic(context.admin, TOPIC, partitions);
    progress(`  producing ${records.toLocaleString("en-US")} records for the profile`);
    await produceRecords(context.kafka, TOPIC, records, (i) => ({ value: paddedValue(i, valueBytes) }), { partitions });

    const profileDir = path.join(context.workDir, "cpu-profiles");
    await mkdir(profileDir, { recursive: true });
    const from = performance.now();
    const run = await runEddyFunction(context, "Eddy no-op handle, profiled", { name: "profile-handle", source: noopSource }, TOPIC, records, timeoutMs, {
      EDDY_WORKER_CPU_PROF: profileDir,
    });
    progress(`  profiled run took ${((performance.now() - from) / 1000).toFixed(1)} s`);
    const file = await largestProfile(profileDir);
    if (file === null) throw new Error(`the worker wrote no .cpuprofile into ${profileDir} (EDDY_WORKER_CPU_PROF)`);
    const summary = await summarizeCpuProfile(file, ROOT, TOP_FUNCTIONS);
    const busyMs = summary.totalMs - summary.idleMs;

    return {
      setup:
        `Eddy with a no-op \`handle\` (default configuration) reads ${records.toLocaleString("en-US")} records of ${valueBytes} bytes over ${partitions} partitions, ` +
        `produced before, with \`EDDY_WORKER_CPU_PROF\` set so that its worker runs under \`node --cpu-prof\` (the profiler's sampling slows it a little: ` +
        `${fmtInt(run.perSecond)} records/s here). The worker's profile covers its whole life (start, the run, the drain at stop) and is summarized by self time: ` +
        `the time a function spent on the CPU itself, not in what it called. "(program)" is native code without a JavaScript frame on top (isolated-vm's calls into the isolate among it), ` +
        `"(garbage collector)" is GC. The isolate's own JavaScript runs on isolated-vm's threads and is not in this profile. ` +
        `Of ${fmt(summary.totalMs / 1000, 1)} s profiled, the main thread was busy ${fmt(busyMs / 1000, 1)} s and idle (waiting for I/O) ${fmt(summary.idleMs / 1000, 1)} s.`,
      columns: ["function (file:line)", "self ms", "% of profile", "% of busy time"],
      rows: summary.top.map((row) => [row.function, fmt(row.selfMs, 0), fmt(row.percent, 1), fmt(busyMs > 0 ? (100 * row.selfMs) / busyMs : Number.NaN, 1)]),
      targets: [],
      notes: run.complete ? [] : [`The profiled run was incomplete: ${fmtInt(run.committed)} of ${fmtInt(run.total)} records done in the time limit.`],
      data: { records, partitions, valueBytes, run, profile: summary },
    };
  },
};
