import { decide, initialMemory, type ScalingPolicy } from "../../../runtime/scaler/decider.js";
import type { LoadSample } from "../../../runtime/scaler/load-sample.js";
import { GroupModel, type GroupModelOptions } from "./group-model.js";
import { kedaInitialMemory, kedaStep, type KedaPolicy } from "./keda-rule.js";
import type { LoadTrace } from "./load-traces.js";

/** A change of the replica count a scaler made, for the timeline in the JSON. */
export interface ScaleEvent {
  atMs: number;
  from: number;
  to: number;
  reason: string;
  lag: number;
}

/**
 * How one scaler did on one trace. Backlog figures (records arrived, not yet finished) are taken at every
 * tick after the trace's load start; the scalers themselves read lag (the backlog plus what was finished
 * but is not yet committed), which would never drop under lagThreshold at a high rate however well the
 * group keeps up.
 */
export interface ScalerRun {
  peakBacklog: number;
  peakBacklogAtMs: number;
  /** Peak of the lag the scaler read, for comparison. */
  peakLag: number;
  /** From the load start until the backlog is back at or under lagThreshold after first going over it; 0: it never went over; null: never back. */
  backUnderMs: number | null;
  /** Time with the backlog over lagThreshold after the load start. */
  overThresholdMs: number;
  /** The longest single stretch of it: the slowest recovery, on traces with many bursts. */
  longestOverMs: number;
  /** Mean time a record waited until finished (Little's law: backlog integral ÷ records arrived), whole run. */
  meanWaitMs: number;
  replicaSeconds: number;
  peakReplicas: number;
  /** Changes of the replica count the scaler made. */
  countChanges: number;
  /** Rebalances they caused in the group (a replica stopped before it joined causes none; joining an empty group does). */
  rebalances: number;
  pausedMs: number;
  events: ScaleEvent[];
}

/** Something that looks at the group after each tick and may set a new replica count. */
type Controller = (model: GroupModel) => { replicas: number; reason: string } | null;

/** Steps the model over the whole trace, letting `controller` act after each tick, and measures the lag. */
function run(trace: LoadTrace, model: GroupModelOptions, lagThreshold: number, controller: Controller): ScalerRun {
  const group = new GroupModel(model, trace.arrivals);
  const events: ScaleEvent[] = [];
  let [peakBacklog, peakBacklogAtMs, peakLag, overThresholdMs, longestOverMs, stretchMs, peakReplicas] = [0, 0, 0, 0, 0, 0, 0];
  let wentOverAt: number | null = null;
  let backUnderMs: number | null = null;
  while (group.now < trace.durationMs) {
    group.step();
    const [lag, backlog] = [group.lag, group.backlog];
    if (group.now > trace.loadStartMs) {
      if (backlog > peakBacklog) [peakBacklog, peakBacklogAtMs] = [backlog, group.now];
      peakLag = Math.max(peakLag, lag);
      if (backlog > lagThreshold) {
        overThresholdMs += model.tickMs;
        stretchMs += model.tickMs;
        longestOverMs = Math.max(longestOverMs, stretchMs);
        wentOverAt ??= group.now;
      } else {
        stretchMs = 0;
        if (wentOverAt !== null && backUnderMs === null) backUnderMs = group.now - trace.loadStartMs;
      }
    }
    const change = controller(group);
    if (change && change.replicas !== group.replicaCount) {
      events.push({ atMs: group.now, from: group.replicaCount, to: change.replicas, reason: change.reason, lag });
      group.setReplicas(change.replicas);
    }
    peakReplicas = Math.max(peakReplicas, group.replicaCount);
  }
  const { totals } = group;
  return {
    peakBacklog,
    peakBacklogAtMs,
    peakLag,
    backUnderMs: wentOverAt === null ? 0 : backUnderMs,
    overThresholdMs,
    longestOverMs,
    meanWaitMs: totals.arrived > 0 ? totals.backlogMs / totals.arrived : 0,
    replicaSeconds: totals.replicaMs / 1_000,
    peakReplicas,
    countChanges: events.length,
    rebalances: totals.rebalances,
    pausedMs: totals.pausedMs,
    events,
  };
}

/** Any fixed instant: the decider works on epoch milliseconds, the model from 0. */
const EPOCH_MS = 1_700_000_000_000;

/**
 * Eddy's decider as the control plane runs it: a reading every `pollIntervalMs`, `decide` with the
 * readings of the last stable window and the memory it returned last time, its count applied at once.
 */
export function runEddy(trace: LoadTrace, model: GroupModelOptions, policy: ScalingPolicy, pollIntervalMs: number): ScalerRun {
  let memory = initialMemory(0, EPOCH_MS);
  let samples: LoadSample[] = [];
  return run(trace, model, policy.lagThreshold, (group) => {
    if (group.now % pollIntervalMs !== 0) return null;
    const now = EPOCH_MS + group.now;
    samples.push(group.reading(EPOCH_MS));
    samples = samples.filter((s) => s.at > now - policy.stableWindowMs - pollIntervalMs);
    const decision = decide({ policy, samples, memory, now, healthy: true });
    memory = decision.memory;
    return decision.changed ? { replicas: decision.desired, reason: decision.reason } : null;
  });
}

/** KEDA's rule on the same model: it looks at every tick and acts when its poll or the HPA's sync is due. */
export function runKeda(trace: LoadTrace, model: GroupModelOptions, policy: KedaPolicy): ScalerRun {
  let memory = kedaInitialMemory(policy);
  return run(trace, model, policy.lagThreshold, (group) => {
    const decision = kedaStep(policy, memory, group.now, group.lag);
    memory = decision.memory;
    return decision.reason === null ? null : { replicas: decision.replicas, reason: decision.reason };
  });
}
