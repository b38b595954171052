import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { performance } from "node:perf_hooks";
import type { ScalingPolicy } from "../../../runtime/scaler/decider.js";
import { ROOT } from "../lib/eddy-instance.js";
import { DEFAULT_MODEL, type GroupModelOptions } from "../lib/group-model.js";
import { kedaDefaults, type KedaPolicy } from "../lib/keda-rule.js";
import { recordedTrace, syntheticTraces, type LoadTrace, type SkippedTrace } from "../lib/load-traces.js";
import { runEddy, runKeda, type ScalerRun } from "../lib/scaling-simulation.js";
import type { Scenario, ScenarioBody } from "../lib/scenario.js";
import { fmt, fmtInt } from "../lib/stats.js";

/** Read from the source tree (the bench runs from dist/, which does not copy results/). */
export const RECORDED_TRACE_FILE = path.join(ROOT, "test/bench/results/recorded-trace.json");

/** The scale-out scenario's measured figures, when it has run (`{ capacityPerReplica, rebalancePauseMs, source }`). */
export const MEASURED_FIGURES_FILE = path.join(ROOT, "test/bench/results/scale-out-figures.json");

/** A model figure and where it came from, printed with the table. */
export interface Figure {
  value: number;
  source: string;
}

export interface SimulationOptions {
  capacityPerReplica: Figure;
  rebalancePauseMs: Figure;
  assignment: { value: GroupModelOptions["assignment"]; source: string };
  recordedTraceFile: string;
}

const DEFAULT_CAPACITY = 450;
const DEFAULT_REBALANCE_MS = 3_000;

/**
 * The model's two figures. They come from EDDY_SIM_CAPACITY and EDDY_SIM_REBALANCE_MS, else from
 * what the scale-out scenario measured on the real broker (it runs first and writes them to
 * `MEASURED_FIGURES_FILE`), else the defaults. A variable that is set but not a positive number is an error, not a silent default.
 */
export function simulationOptions(env: NodeJS.ProcessEnv = process.env, measuredFile = MEASURED_FIGURES_FILE): SimulationOptions {
  const measured = readMeasured(measuredFile);
  const figure = (name: string, fallback: number, unit: string, key: "capacityPerReplica" | "rebalancePauseMs"): Figure => {
    const raw = env[name];
    const found = measured?.[key];
    if ((raw === undefined || raw.trim() === "") && typeof found === "number" && found > 0) {
      return { value: Math.round(found), source: `measured by the scale-out scenario (${measured!.source})` };
    }
    if (raw === undefined || raw.trim() === "") return { value: fallback, source: `default (${name} unset, no scale-out figures)` };
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number of ${unit}`);
    return { value, source: `${name}=${raw}` };
  };
  const assignment = env.EDDY_SIM_ASSIGNMENT;
  if (assignment !== undefined && assignment !== "" && assignment !== "pooled" && assignment !== "round-robin") {
    throw new Error(`EDDY_SIM_ASSIGNMENT=${assignment}: expected "pooled" or "round-robin"`);
  }
  return {
    capacityPerReplica: figure("EDDY_SIM_CAPACITY", DEFAULT_CAPACITY, "records/s", "capacityPerReplica"),
    rebalancePauseMs: figure("EDDY_SIM_REBALANCE_MS", DEFAULT_REBALANCE_MS, "milliseconds", "rebalancePauseMs"),
    assignment: assignment ? { value: assignment, source: `EDDY_SIM_ASSIGNMENT=${assignment}` } : { value: DEFAULT_MODEL.assignment, source: "default (EDDY_SIM_ASSIGNMENT unset)" },
    recordedTraceFile: RECORDED_TRACE_FILE,
  };
}

function readMeasured(file: string): { capacityPerReplica?: unknown; rebalancePauseMs?: unknown; source?: string } | null {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(readFileSync(file, "utf8")) as { capacityPerReplica?: unknown; rebalancePauseMs?: unknown; source?: string };
  } catch {
    return null;
  }
}

const PARTITIONS = 6;
const LAG_THRESHOLD = 100;
const POLL_INTERVAL_MS = 1_000;

/** Eddy's defaults (SPEC §3 `scaling`) on 6 partitions. */
export const EDDY_POLICY: ScalingPolicy = {
  minReplicas: 0,
  lagThreshold: LAG_THRESHOLD,
  activationLagThreshold: 0,
  scaleToZeroAfterMs: 60_000,
  stableWindowMs: 60_000,
  minChangeIntervalMs: 10_000,
  partitions: PARTITIONS,
};

export interface TraceResult {
  trace: { id: string; description: string; durationMs: number; loadStartMs: number };
  eddy: ScalerRun;
  keda: ScalerRun;
}

export interface SimulationResult {
  options: SimulationOptions;
  model: GroupModelOptions;
  eddyPolicy: ScalingPolicy & { pollIntervalMs: number };
  kedaPolicy: KedaPolicy;
  traces: (TraceResult | SkippedTrace)[];
  setup: string;
  columns: string[];
  rows: string[][];
  notes: string[];
  durationMs: number;
}

const seconds = (ms: number | null, digits = 0) => (ms === null ? "never" : fmt(ms / 1_000, digits));

function backUnder(run: ScalerRun): string {
  if (run.backUnderMs === 0) return "never over";
  return seconds(run.backUnderMs);
}

function rows(results: (TraceResult | SkippedTrace)[]): string[][] {
  return results.flatMap((result) => {
    if ("skipped" in result) return [[result.id, "—", `skipped: ${result.skipped}`, "—", "—", "—", "—", "—", "—", "—", "—", "—"]];
    return (["eddy", "keda"] as const).map((scaler) => {
      const r = result[scaler];
      return [
        result.trace.id,
        scaler === "eddy" ? "Eddy decider" : "KEDA + HPA",
        `${fmtInt(r.peakBacklog)} at ${fmt(r.peakBacklogAtMs / 1_000, 0)} s`,
        fmtInt(r.peakLag),
        backUnder(r),
        seconds(r.overThresholdMs),
        seconds(r.longestOverMs),
        fmt(r.meanWaitMs / 1_000, 2),
        fmtInt(r.replicaSeconds),
        String(r.countChanges),
        String(r.rebalances),
        seconds(r.pausedMs),
      ];
    });
  });
}

/** Per trace: does Eddy's decider have the lower peak lag and fewer rebalances? Stated, never asserted. */
function verdicts(results: (TraceResult | SkippedTrace)[]): string[] {
  return results.flatMap((result) => {
    if ("skipped" in result) return [];
    const { eddy, keda } = result;
    const compare = (a: number, b: number) => (a < b ? "lower" : a === b ? "equal" : "**higher**");
    return [
      `${result.trace.id}: Eddy's peak backlog is ${compare(eddy.peakBacklog, keda.peakBacklog)} (${fmtInt(eddy.peakBacklog)} vs ${fmtInt(keda.peakBacklog)}), ` +
        `its rebalances ${compare(eddy.rebalances, keda.rebalances)} (${eddy.rebalances} vs ${keda.rebalances}), ` +
        `its replica-seconds ${compare(eddy.replicaSeconds, keda.replicaSeconds)} (${fmtInt(eddy.replicaSeconds)} vs ${fmtInt(keda.replicaSeconds)}).`,
    ];
  });
}

/**
 * Both scalers on every trace, on the same group model: the table data and the raw runs. Pure
 * computation (a few seconds), no broker.
 */
export function simulateAll(options: SimulationOptions = simulationOptions()): SimulationResult {
  const from = performance.now();
  const model: GroupModelOptions = {
    ...DEFAULT_MODEL,
    partitions: PARTITIONS,
    capacityPerReplica: options.capacityPerReplica.value,
    rebalancePauseMs: options.rebalancePauseMs.value,
    assignment: options.assignment.value,
  };
  const kedaPolicy = kedaDefaults(PARTITIONS, LAG_THRESHOLD);
  const traces: (LoadTrace | SkippedTrace)[] = [...syntheticTraces(model.capacityPerReplica), recordedTrace(options.recordedTraceFile)];
  const results = traces.map((trace): TraceResult | SkippedTrace => {
    if ("skipped" in trace) return trace;
    const { id, description, durationMs, loadStartMs } = trace;
    return {
      trace: { id, description, durationMs, loadStartMs },
      eddy: runEddy(trace, model, EDDY_POLICY, POLL_INTERVAL_MS),
      keda: runKeda(trace, model, kedaPolicy),
    };
  });

  const setup =
    `A simulation, no broker: one consumer group on ${PARTITIONS} partitions, stepped every ${model.tickMs} ms, under each trace below, ` +
    `scaled once by Eddy's decider (\`runtime/scaler/decider.ts\`, defaults: lagThreshold ${LAG_THRESHOLD}, stable window 60 s, minChangeInterval 10 s, ` +
    `scale to zero after 60 s, a reading every ${POLL_INTERVAL_MS / 1_000} s, minReplicas 0) and once by KEDA's Kafka scaler with an HPA ` +
    `(lagThreshold ${LAG_THRESHOLD}, activation at lag > 0, KEDA polls every 30 s, HPA every 15 s with 10 % tolerance, scale-down stabilization 300 s, ` +
    `cooldown 300 s to zero, 0 to ${PARTITIONS} replicas, the HPA's default scale-up limit of +100 % or +4 pods per sync). Both start at 0 replicas. ` +
    `Model figures: one replica finishes at most **${model.capacityPerReplica} records/s** (${options.capacityPerReplica.source}); ` +
    `every change of membership stops the whole group for **${model.rebalancePauseMs} ms** (${options.rebalancePauseMs.source}); ` +
    `a replica joins ${model.startupMs} ms after it is asked for; finished records are committed ${model.commitDelayMs} ms later; ` +
    (model.assignment === "pooled"
      ? `the group drains min(replicas, ${PARTITIONS}) × capacity from any partition (assignment "pooled", ${options.assignment.source}). `
      : `each replica drains only the partitions assigned to it round-robin, so 4 or 5 replicas keep up with no more than 3 on even keys (assignment "round-robin", ${options.assignment.source}). `) +
    `Traces: ${traces.map((t) => `**${t.id}**: ${t.description}`).join("; ")}. ` +
    `Backlog = records arrived and not yet finished, taken every tick from the load start (the spike for "spike"); "peak lag read" is the lag the scalers see ` +
    `(the backlog plus records finished in the last ${model.commitDelayMs} ms, not yet committed), which stays above ${LAG_THRESHOLD} at any rate over ${Math.floor((LAG_THRESHOLD * 1_000) / model.commitDelayMs)}/s however well the group keeps up. ` +
    `"backlog ≤ ${LAG_THRESHOLD} after": from the load start until the backlog, having gone over ${LAG_THRESHOLD}, is back at or under it ("never over" if it never went over); ` +
    `"backlog > ${LAG_THRESHOLD}": all the time over it after the load start, and "longest": the longest single stretch. ` +
    `Mean wait: the backlog integral over records arrived (Little's law), whole run. Replica-s: replica processes alive (starting or joined) over time. ` +
    `Count changes: the scaler's changes of the count; rebalances: the pauses they caused (a change during a pause joins it; joining an empty group counts; scaling to zero does not).`;

  return {
    options,
    model,
    eddyPolicy: { ...EDDY_POLICY, pollIntervalMs: POLL_INTERVAL_MS },
    kedaPolicy,
    traces: results,
    setup,
    columns: [
      "trace",
      "scaler",
      "peak backlog",
      "peak lag read",
      `backlog ≤ ${LAG_THRESHOLD} after (s)`,
      `backlog > ${LAG_THRESHOLD} (s)`,
      `longest > ${LAG_THRESHOLD} (s)`,
      "mean wait (s)",
      "replica-s",
      "count changes",
      "rebalances",
      "group paused (s)",
    ],
    rows: rows(results),
    notes: [
      `Model figures: capacity ${model.capacityPerReplica} records/s per replica from ${options.capacityPerReplica.source}; rebalance pause ${model.rebalancePauseMs} ms from ${options.rebalancePauseMs.source}; ` +
        `assignment "${model.assignment}" from ${options.assignment.source}. ` +
        "EDDY_SIM_CAPACITY and EDDY_SIM_REBALANCE_MS override the figures, EDDY_SIM_ASSIGNMENT=round-robin binds replicas to partitions.",
      "Both scalers run on the same model with the same figures; KEDA's poll and the HPA's sync are placed at their mean delay after the load starts (15 s and 7.5 s).",
      ...verdicts(results),
    ],
    durationMs: performance.now() - from,
  };
}

/** Scenario 7: the simulation as a bench scenario; the broker the runner started is not used. */
export const scalerSimulation: Scenario = {
  id: "scaler-simulation",
  number: 8,
  title: "Scaler simulation: Eddy's decider against KEDA's rule",
  async run(): Promise<ScenarioBody> {
    const result = simulateAll();
    return {
      setup: result.setup,
      columns: result.columns,
      rows: result.rows,
      targets: [],
      notes: result.notes,
      data: { options: result.options, model: result.model, eddyPolicy: result.eddyPolicy, kedaPolicy: result.kedaPolicy, traces: result.traces },
    };
  },
};
