import { writeFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { Consumer } from "kafkajs";
import type { EddyInstance } from "../lib/eddy-instance.js";
import { committedTotal, createTopic, produceRecords, startReader } from "../lib/kafka-tools.js";
import { progress, sleep } from "../lib/progress.js";
import type { BenchContext, Scenario } from "../lib/scenario.js";
import { fmt, fmtInt, fmtRatio, ratio } from "../lib/stats.js";
import { MEASURED_FIGURES_FILE, RECORDED_TRACE_FILE } from "./scaler-simulation.js";

const PARTITIONS = 6;
const CPU_MS = 2;

/** About 2 ms of computation a record, then one emit: a replica's rate is bounded by its own CPU. */
function cpuSource(name: string, topic: string, out: string): string {
  return `
import { defineFunction } from "eddy/sdk";
export default defineFunction({
  name: "${name}",
  topics: ["${topic}"],
  timeoutMs: 10000,
  async handle(event, ctx) {
    const until = Date.now() + ${CPU_MS};
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    await ctx.emit("${out}", event.value, { key: event.key });
  },
});
`;
}

interface ScaleOutRun {
  label: string;
  records: number;
  /** From the first record produced to its output read back. */
  activationMs: number | null;
  /** From the first record produced to a second replica ready (null: never, or a fixed replica). */
  secondReplicaMs: number | null;
  /** From the first record produced to every record committed. */
  drainMs: number | null;
  /** Records per second over the drain. */
  perSecond: number | null;
  peakReplicas: number;
  /** The scaler's changes during the run: "1 → 6 (panic: …)". */
  changes: string[];
  /** The longest stretch with no output while records were left: the rebalance pause, as this run saw it. */
  longestStallMs: number;
  /** Records finished per second by one replica while it had a backlog, as the scaler measured it. */
  drainPerReplica: number | null;
  /** Arrivals per second, as a trace for the simulation. */
  arrivals: number[];
  complete: boolean;
}

/**
 * Produces `records` as fast as possible to a fresh topic and watches one Eddy function consume it:
 * output records (first one, gaps), the group's commits, and the function's status (replicas, scaler).
 */
async function burstRun(context: BenchContext, label: string, records: number, config: Record<string, unknown>, fromZero: boolean): Promise<ScaleOutRun> {
  const suffix = label.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  const [topic, out, name] = [`bench.scale-out.${suffix}`, `bench.scale-out.${suffix}.out`, `scale-out-${suffix}`];
  await createTopic(context.admin, topic, PARTITIONS);
  await createTopic(context.admin, out, PARTITIONS);
  const eddy: EddyInstance = await context.startEddy(label);
  let reader: Consumer | undefined;
  try {
    await eddy.deploy(cpuSource(name, topic, out), config);
    if (fromZero) {
      progress(`  ${label}: waiting for the function to scale to zero`);
      const until = performance.now() + 60_000;
      while (performance.now() < until && (await eddy.status(name)).state !== "scaled-to-zero") await sleep(250);
    } else {
      const until = performance.now() + 30_000;
      while (performance.now() < until && (await eddy.status(name)).replicas.ready < 1) await sleep(100);
    }
    const outputs: number[] = [];
    reader = await startReader(context.kafka, out, () => outputs.push(performance.now()));

    const startedAt = performance.now();
    const wallStart = Date.now();
    const producing = produceRecords(context.kafka, topic, records, (i) => ({ key: `k${i}`, value: String(i) }), { partitions: PARTITIONS, chunk: 500, inFlight: 2 });
    const run: ScaleOutRun = {
      label,
      records,
      activationMs: null,
      secondReplicaMs: null,
      drainMs: null,
      perSecond: null,
      peakReplicas: 0,
      changes: [],
      longestStallMs: 0,
      drainPerReplica: null,
      arrivals: [],
      complete: false,
    };
    const group = eddy.groupOf(name);
    const until = startedAt + 180_000;
    let lastStatusAt = 0;
    let lastChange = "";
    while (performance.now() < until) {
      const now = performance.now();
      if (run.activationMs === null && outputs.length > 0) run.activationMs = outputs[0]! - startedAt;
      if (now - lastStatusAt >= 200) {
        lastStatusAt = now;
        const status = (await eddy.status(name)) as unknown as {
          replicas: { ready: number };
          scaler?: { drainPerReplicaPerSec: number | null; lastChange: { at: string; from: number; to: number; reason: string } | null };
        };
        run.peakReplicas = Math.max(run.peakReplicas, status.replicas.ready);
        if (run.secondReplicaMs === null && status.replicas.ready >= 2) run.secondReplicaMs = now - startedAt;
        if (status.scaler?.drainPerReplicaPerSec) run.drainPerReplica = status.scaler.drainPerReplicaPerSec;
        const change = status.scaler?.lastChange;
        // The change that took the function to zero before the burst is not part of the run.
        const text = change && Date.parse(change.at) >= wallStart ? `${change.from} → ${change.to} (${change.reason})` : "";
        if (text && text !== lastChange) run.changes.push(`${fmt((now - startedAt) / 1000)} s: ${text}`);
        lastChange = text;
      }
      if ((await committedTotal(context.admin, group, topic).catch(() => 0)) >= records) {
        run.drainMs = performance.now() - startedAt;
        run.complete = true;
        break;
      }
      await sleep(20);
    }
    await producing;
    if (run.drainMs !== null) run.perSecond = (records / run.drainMs) * 1000;
    // The longest gap between consecutive outputs while the run lasted: eager rebalances stop the group.
    const sorted = [...outputs].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i += 1) run.longestStallMs = Math.max(run.longestStallMs, sorted[i]! - sorted[i - 1]!);
    // Arrivals per second: a burst produced as fast as the broker takes it, then nothing.
    const seconds = Math.ceil((run.drainMs ?? 60_000) / 1000) + 30;
    run.arrivals = Array.from({ length: seconds }, (_, s) => (s === 0 ? records : 0));
    progress(`  ${label}: ${run.complete ? `${records} records in ${fmt((run.drainMs ?? 0) / 1000)} s` : "INCOMPLETE"}, peak ${run.peakReplicas} replicas`);
    return run;
  } finally {
    await reader?.disconnect().catch(() => undefined);
    await eddy.stop();
  }
}

/** Scale-out: a CPU-bound burst from zero, autoscaled, against one fixed replica in the same run (issue 9). */
export const scaleOut: Scenario = {
  id: "scale-out",
  number: 7,
  title: "Scale-out",
  async run(context) {
    const records = context.options.quick ? 6_000 : 20_000;
    const fixed = await burstRun(context, "one fixed replica", records, { scaling: { minReplicas: 1, maxReplicas: 1 } }, false);
    const scaled = await burstRun(context, "autoscaled from zero", records, { scaling: { minReplicas: 0, scaleToZeroAfterMs: 3_000 } }, true);
    // From one warm replica, the scale-up happens while records flow: its stall is what a rebalance costs.
    const warm = await burstRun(context, "autoscaled from one replica", records, { scaling: { minReplicas: 1 } }, false);
    // A replica's measured rate and the rebalance pause feed the simulation's model of a group.
    const capacity = fixed.perSecond;
    const trace = { source: `scale-out scenario, ${new Date().toISOString()}: ${records} records produced at once`, stepMs: 1_000, arrivals: scaled.arrivals };
    await writeFile(RECORDED_TRACE_FILE, `${JSON.stringify(trace)}\n`);
    if (capacity !== null && warm.complete) {
      const figures = { source: `scale-out scenario, ${new Date().toISOString()}`, capacityPerReplica: capacity, rebalancePauseMs: warm.longestStallMs };
      await writeFile(MEASURED_FIGURES_FILE, `${JSON.stringify(figures)}\n`);
    }
    const row = (r: ScaleOutRun) => [
      r.label,
      r.activationMs === null ? "—" : fmtInt(r.activationMs),
      r.secondReplicaMs === null ? "—" : fmtInt(r.secondReplicaMs),
      r.drainMs === null ? "incomplete" : fmt(r.drainMs / 1000),
      fmtInt(r.perSecond),
      r === fixed ? "1.00× (baseline)" : fmtRatio(ratio(r.perSecond, fixed.perSecond)),
      String(r.peakReplicas),
      fmtInt(r.longestStallMs),
    ];
    return {
      setup: `${records.toLocaleString("en-US")} records produced at once to ${PARTITIONS} partitions; the handler computes for ${CPU_MS} ms a record, then emits one record. "One fixed replica" runs with scaling { minReplicas: 1, maxReplicas: 1 }; "autoscaled from zero" with the default scaling settings except scaleToZeroAfterMs 3,000, and starts at zero replicas (no worker process); "autoscaled from one replica" with the defaults and minReplicas 1, one replica consuming when the burst comes. Times run from the first record produced. On 2 cores, replicas beyond 2 add little: each is a CPU-bound process.`,
      columns: ["variant", "activation: first output (ms)", "second replica ready (ms)", "drain (s)", "records/s", "vs one replica", "peak replicas", "longest output stall (ms)"],
      rows: [row(fixed), row(scaled), row(warm)],
      targets: [],
      notes: [
        `Scaling decisions from zero: ${scaled.changes.length === 0 ? "none" : scaled.changes.join("; ")}.`,
        `Scaling decisions from one replica: ${warm.changes.length === 0 ? "none" : warm.changes.join("; ")}.`,
        `One replica's drain rate as the scaler measured it under the backlog: ${warm.drainPerReplica === null ? "not measured" : `${fmtInt(warm.drainPerReplica)} records/s`} (several replicas share 2 cores); the fixed replica's overall rate: ${fmtInt(capacity)} records/s.`,
        `From zero, all replicas start together, so no rebalance interrupts the work. From one replica, the scale-up's rebalance stopped the output for ${fmtInt(warm.longestStallMs)} ms at most: the simulation's model (scenario 8) takes its pause per rebalance from there, and its per-replica capacity from the fixed replica.`,
      ],
      data: { fixed, scaled, warm, capacityPerReplica: capacity, rebalancePauseMs: warm.longestStallMs },
    };
  },
};
