import { performance } from "node:perf_hooks";
import { createTopic, paddedValue, produceRecords } from "../lib/kafka-tools.js";
import { progress } from "../lib/progress.js";
import type { Scenario, TargetCheck } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, median, ratio } from "../lib/stats.js";
import { runBaseline, runEddyFunction, type ConsumeRun } from "../lib/variants.js";

const TOPIC = "bench.throughput";
/** Issue 11's goals, against bare kafkajs in the same round. */
const TARGETS = { handle: 0.85, batch: 0.9 } as const;

function handleSource(name: string): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "${name}", topics: ["${TOPIC}"], startFrom: "earliest", handle() {} });
`;
}

function handleBatchSource(name: string): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({ name: "${name}", topics: ["${TOPIC}"], startFrom: "earliest", handleBatch() {} });
`;
}

interface Round {
  baseline: ConsumeRun;
  handle: ConsumeRun;
  batch: ConsumeRun;
}

type Variant = keyof Round;

/** "123,456 (110,000–130,000)": the median over the rounds and their spread. */
function medianWithSpread(values: number[], format: (v: number) => string): string {
  if (values.length === 0) return "—";
  if (values.length === 1) return format(values[0]!);
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`;
}

/**
 * Scenario 1: records produced before timing, then consumed by a bare kafkajs eachBatch doing
 * nothing, by Eddy with a no-op \`handle\`, and by Eddy with a no-op \`handleBatch\`, one after the other;
 * the three alternate over several rounds, and each ratio is taken within its round.
 */
export const throughput: Scenario = {
  id: "throughput",
  number: 1,
  title: "Throughput",
  async run(context) {
    const { records, partitions, valueBytes, timeoutMs, rounds } = context.options.sizes.throughput;
    await createTopic(context.admin, TOPIC, partitions);
    progress(`  producing ${records.toLocaleString("en-US")} records of ${valueBytes} bytes over ${partitions} partitions`);
    const producingFrom = performance.now();
    await produceRecords(context.kafka, TOPIC, records, (i) => ({ value: paddedValue(i, valueBytes) }), { partitions });
    const produceMs = performance.now() - producingFrom;
    progress(`  produced in ${(produceMs / 1000).toFixed(1)} s`);

    const done: Round[] = [];
    for (let round = 1; round <= rounds; round += 1) {
      progress(`  round ${round} of ${rounds}`);
      const baseline = await runBaseline(
        context,
        "kafkajs eachBatch no-op",
        { mode: "noop-batch", brokers: context.brokers, groupId: `bench.throughput.kafkajs.${round}`, topic: TOPIC },
        records,
        timeoutMs,
      );
      const handleName = `throughput-handle-${round}`;
      const handle = await runEddyFunction(context, "Eddy no-op handle", { name: handleName, source: handleSource(handleName) }, TOPIC, records, timeoutMs);
      const batchName = `throughput-batch-${round}`;
      const batch = await runEddyFunction(context, "Eddy no-op handleBatch", { name: batchName, source: handleBatchSource(batchName) }, TOPIC, records, timeoutMs);
      done.push({ baseline, handle, batch });
    }

    const rates = (variant: Variant): number[] => done.flatMap((r) => (r[variant].complete && r[variant].perSecond !== null ? [r[variant].perSecond!] : []));
    const ratios = (variant: Variant): number[] => done.flatMap((r) => (r[variant].complete ? [ratio(r[variant].perSecond, r.baseline.perSecond)] : [])).filter((v): v is number => v !== null);
    const cpu = (variant: Variant, part: "consumer" | "broker" | "worker" | "controlPlane" | "bench"): number[] =>
      done.flatMap((r) => (r[variant].cpu?.[part] === undefined ? [] : [r[variant].cpu![part]!]));
    const seconds = (variant: Variant, key: "fromJoinMs" | "toJoinMs"): number[] => done.flatMap((r) => (r[variant][key] === null ? [] : [r[variant][key]! / 1000]));

    const targets: TargetCheck[] = [];
    const labels: Record<Variant, string> = { baseline: "kafkajs eachBatch no-op", handle: "Eddy no-op handle", batch: "Eddy no-op handleBatch" };
    const rows = (["baseline", "handle", "batch"] as const).map((variant) => {
      const isBaseline = variant === "baseline";
      const target = isBaseline ? null : TARGETS[variant];
      const variantRatios = ratios(variant);
      const complete = done.every((r) => r[variant].complete);
      const medianRatio = variantRatios.length > 0 ? median(variantRatios) : null;
      const met = target === null ? null : medianRatio === null || !complete ? false : medianRatio >= target;
      if (target !== null) {
        targets.push({
          scenario: "1. Throughput",
          goal: `${labels[variant]} ≥ ${target}× bare kafkajs`,
          measured: `${fmtRatio(medianRatio)}, median of ${done.length} rounds (${fmtInt(median(rates(variant)))} vs ${fmtInt(median(rates("baseline")))} records/s)`,
          met,
        });
      }
      return [
        labels[variant],
        `${medianWithSpread(rates(variant), fmtInt)}${complete ? "" : " (a round was incomplete: see notes)"}`,
        isBaseline ? "1.00× (baseline)" : medianWithSpread(variantRatios, fmtRatio),
        medianWithSpread(cpu(variant, "consumer"), (v) => fmt(v, 2)),
        medianWithSpread(cpu(variant, "broker"), (v) => fmt(v, 2)),
        medianWithSpread(seconds(variant, "fromJoinMs"), (v) => fmt(v, 2)),
        medianWithSpread(seconds(variant, "toJoinMs"), (v) => fmt(v, 2)),
        target === null ? "—" : `≥ ${target}×`,
        met === null ? "—" : met ? "yes" : "no",
      ];
    });

    const notes: string[] = [];
    for (const variant of ["handle", "batch"] as const) {
      const [worker, control] = [cpu(variant, "worker"), cpu(variant, "controlPlane")];
      if (worker.length === 0 || control.length === 0) continue;
      notes.push(`${labels[variant]}: consumer CPU = worker ${fmt(median(worker), 2)} + control plane ${fmt(median(control), 2)} µs/record (medians).`);
    }
    const bench = (["baseline", "handle", "batch"] as const).map((variant) => `${labels[variant]} ${fmt(median(cpu(variant, "bench")), 2)}`);
    notes.push(`The bench process's own CPU in the same windows (it polls Eddy's commits; the baseline reports by itself), µs/record: ${bench.join(", ")}.`);
    const runs = done.flatMap((r) => [r.baseline, r.handle, r.batch]);
    for (const run of runs) if (run.error !== undefined) notes.push(`${run.label} failed: ${run.error.split("\n")[0]}`);
    for (const run of runs) if (!run.complete && run.error === undefined) notes.push(`${run.label}: incomplete, ${fmtInt(run.committed)} of ${fmtInt(run.total)} done in the time limit.`);
    for (const run of runs) {
      const stats = run.eddyStats;
      if (stats && (stats.failed > 0 || stats.deadLettered > 0)) notes.push(`${run.label}: Eddy reported ${stats.failed} failed and ${stats.deadLettered} dead-lettered invocations.`);
    }

    return {
      setup:
        `${records.toLocaleString("en-US")} records of ${valueBytes} bytes, spread evenly over ${partitions} partitions and produced before any timing ` +
        `(producing took ${(produceMs / 1000).toFixed(1)} s). Each variant then reads the whole topic from the beginning with its own consumer group, ` +
        `one variant at a time: a bare kafkajs consumer (its own process, \`eachBatch\` doing nothing, kafkajs defaults, committing after each batch), ` +
        `then Eddy with a no-op \`handle\`, then Eddy with a no-op \`handleBatch\` (each on a fresh \`eddy start\`, default configuration: batches of 100, ordering "partition"); ` +
        `the three take turns for ${rounds} rounds, each round with fresh groups, and each ratio is Eddy over the baseline of its own round. Figures are the median over the rounds, with the lowest and highest in brackets. ` +
        `Records/s is the record count over the time from the consumer's group join to the last record done (Eddy: committed, read off its group's offsets every 10 ms; ` +
        `the baseline reports its join and each finished batch with timestamps). It includes the first fetch and every commit, and leaves out what comes before the join ` +
        `(process start, isolate creation, connecting), shown apart as "start → group join" (from the deploy request, or from spawning the baseline process). ` +
        `CPU per record is the user + system time (from /proc, in 10 ms ticks) that the processes spent between the group join and the last record done, over the records read: ` +
        `the consumer side (the baseline process; Eddy's worker and control plane, split in the notes) and the broker serving it. The machine has two cores that all of them share, ` +
        `so the sum of the two columns bounds the rate: at 2 cores, records/s ≤ 2,000,000 / (consumer + broker µs).`,
      columns: ["variant", "records/s", "vs baseline", "consumer CPU (µs/record)", "broker CPU (µs/record)", "group join → all done (s)", "start → group join (s)", "target", "met"],
      rows,
      targets,
      notes,
      data: { records, partitions, valueBytes, produceMs, rounds: done satisfies Round[] },
    };
  },
};
