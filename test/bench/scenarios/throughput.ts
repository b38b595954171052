import { performance } from "node:perf_hooks";
import { createTopic, paddedValue, produceRecords } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, ratio } from "../lib/stats.js";
import { runBaseline, runEddyFunction, type ConsumeRun } from "../lib/variants.js";

const TOPIC = "bench.throughput";
const TARGET_RATIO = 0.85;

const handleSource = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "throughput-handle", topics: ["${TOPIC}"], startFrom: "earliest", handle() {} });
`;

const handleBatchSource = `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "throughput-batch", topics: ["${TOPIC}"], startFrom: "earliest", handleBatch() {} });
`;

/**
 * Scenario 1: records produced before timing, then consumed by a bare kafkajs eachBatch doing
 * nothing, by Eddy with a no-op `handle`, and by Eddy with a no-op `handleBatch`, one after the other.
 */
export const throughput: Scenario = {
  id: "throughput",
  number: 1,
  title: "Throughput",
  async run(context) {
    const { records, partitions, valueBytes, timeoutMs } = context.options.sizes.throughput;
    await createTopic(context.admin, TOPIC, partitions);
    progress(`  producing ${records.toLocaleString("en-US")} records of ${valueBytes} bytes over ${partitions} partitions`);
    const producingFrom = performance.now();
    await produceRecords(context.kafka, TOPIC, records, (i) => ({ value: paddedValue(i, valueBytes) }), { partitions });
    const produceMs = performance.now() - producingFrom;
    progress(`  produced in ${(produceMs / 1000).toFixed(1)} s`);

    const baseline = await runBaseline(
      context,
      "kafkajs eachBatch no-op",
      { mode: "noop-batch", brokers: context.brokers, groupId: "bench.throughput.kafkajs", topic: TOPIC },
      records,
      timeoutMs,
    );
    const handle = await runEddyFunction(context, "Eddy no-op handle", { name: "throughput-handle", source: handleSource }, TOPIC, records, timeoutMs);
    const batch = await runEddyFunction(context, "Eddy no-op handleBatch", { name: "throughput-batch", source: handleBatchSource }, TOPIC, records, timeoutMs);

    const targets: TargetCheck[] = [];
    const rows = [baseline, handle, batch].map((run) => {
      const isBaseline = run === baseline;
      const r = isBaseline ? null : ratio(run.perSecond, baseline.perSecond);
      const met = isBaseline ? null : r === null || !run.complete ? false : r >= TARGET_RATIO;
      if (!isBaseline) {
        targets.push({ scenario: "1. Throughput", goal: `${run.label} ≥ ${TARGET_RATIO}× bare kafkajs`, measured: `${fmtRatio(r)} (${fmtInt(run.perSecond)} vs ${fmtInt(baseline.perSecond)} records/s)`, met });
      }
      return [
        run.label,
        run.error !== undefined ? "failed (see notes)" : `${fmtInt(run.perSecond)}${run.complete ? "" : ` (incomplete: ${fmtInt(run.committed)} of ${fmtInt(run.total)})`}`,
        isBaseline ? "1.00× (baseline)" : fmtRatio(r),
        run.fromJoinMs === null ? "—" : fmt(run.fromJoinMs / 1000, 2),
        run.toJoinMs === null ? "—" : fmt(run.toJoinMs / 1000, 2),
        isBaseline ? "—" : `≥ ${TARGET_RATIO}×`,
        met === null ? "—" : met ? "yes" : "no",
      ];
    });

    const notes: string[] = [];
    for (const run of [baseline, handle, batch]) if (run.error !== undefined) notes.push(`${run.label} failed: ${run.error.split("\n")[0]}`);
    for (const run of [handle, batch]) {
      const stats = run.eddyStats;
      if (stats && (stats.failed > 0 || stats.deadLettered > 0)) notes.push(`${run.label}: Eddy reported ${stats.failed} failed and ${stats.deadLettered} dead-lettered invocations.`);
    }

    return {
      setup:
        `${records.toLocaleString("en-US")} records of ${valueBytes} bytes, spread evenly over ${partitions} partitions and produced before any timing ` +
        `(producing took ${(produceMs / 1000).toFixed(1)} s). Each variant then reads the whole topic from the beginning with its own consumer group, ` +
        `one variant at a time: a bare kafkajs consumer (its own process, \`eachBatch\` doing nothing, kafkajs defaults, committing after each batch), ` +
        `then Eddy with a no-op \`handle\`, then Eddy with a no-op \`handleBatch\` (each on a fresh \`eddy start\`, default configuration: batches of 100, ordering "partition"). ` +
        `Records/s is the record count over the time from the consumer's group join to the last record done (Eddy: committed, read off its group's offsets every 10 ms; ` +
        `the baseline reports its join and each finished batch with timestamps). It includes the first fetch and every commit, and leaves out what comes before the join ` +
        `(process start, isolate creation, connecting), shown apart as "start → group join" (from the deploy request, or from spawning the baseline process).`,
      columns: ["variant", "records/s", "vs baseline", "group join → all done (s)", "start → group join (s)", "target", "met"],
      rows,
      targets,
      notes,
      data: { records, partitions, valueBytes, produceMs, runs: [baseline, handle, batch] satisfies ConsumeRun[] },
    };
  },
};
