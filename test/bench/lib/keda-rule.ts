/**
 * KEDA's Apache Kafka scaler driving a Kubernetes HPA, as ../shared/research/scaling.md documents them
 * (keda.sh/docs/2.17/scalers/apache-kafka/, pkg/scalers/kafka_scaler.go, and the HPA's algorithm), for the
 * scaler simulation. A pure state machine: `kedaStep` is called on every model tick and acts only when
 * KEDA's poll or the HPA's sync falls due.
 *
 * - KEDA polls every `pollingIntervalMs`: the trigger is active when total lag > activationLagThreshold.
 *   Active at 0 replicas: KEDA itself scales to 1 (max(minReplicaCount, 1)). Inactive for
 *   `cooldownPeriodMs` since it was last active: KEDA scales to minReplicaCount (0).
 * - The HPA syncs every `hpaSyncPeriodMs` while there is at least one replica (at 0 it is disabled).
 *   The metric is the total lag, capped at partitions × lagThreshold (allowIdleConsumers false), with
 *   an AverageValue target of lagThreshold: usage ratio = lag / (lagThreshold × current); within the
 *   10 % tolerance the recommendation is the current count, else ceil(lag / lagThreshold).
 * - Scale-down stabilization: the HPA takes the largest recommendation of the last
 *   `scaleDownStabilizationMs`. Scale-up has no stabilization, but the HPA's default scale-up policy
 *   (Kubernetes' documented default `behavior`: the larger of +100 % and +4 pods per 15 s) limits a step.
 * - Bounds: minReplicas 1 while active (KEDA sets the HPA's minimum to max(minReplicaCount, 1)),
 *   maxReplicaCount = partitions.
 */
export interface KedaPolicy {
  lagThreshold: number;
  activationLagThreshold: number;
  partitions: number;
  maxReplicaCount: number;
  pollingIntervalMs: number;
  cooldownPeriodMs: number;
  hpaSyncPeriodMs: number;
  hpaTolerance: number;
  scaleDownStabilizationMs: number;
  /** Time of KEDA's first poll: its phase against the load. */
  firstPollAtMs: number;
  /** Time of the HPA's first sync. */
  firstSyncAtMs: number;
}

/** KEDA's and the HPA's defaults with `lagThreshold` 100 on `partitions` partitions. */
export function kedaDefaults(partitions: number, lagThreshold = 100): KedaPolicy {
  return {
    lagThreshold,
    activationLagThreshold: 0,
    partitions,
    maxReplicaCount: partitions,
    pollingIntervalMs: 30_000,
    cooldownPeriodMs: 300_000,
    hpaSyncPeriodMs: 15_000,
    hpaTolerance: 0.1,
    scaleDownStabilizationMs: 300_000,
    // Neither loop is aligned with the load. The simulated loads start at a whole minute, so these
    // phases give the mean delays: KEDA's first poll after a load starts comes 15 s (half its
    // interval) after it, and the HPA's first sync after that 7.5 s (half its period) later.
    firstPollAtMs: 15_000,
    firstSyncAtMs: 7_500,
  };
}

export interface KedaMemory {
  replicas: number;
  /** When KEDA's trigger was last active; null: never. */
  lastActiveAt: number | null;
  nextPollAt: number;
  nextSyncAt: number;
  /** The HPA's recommendations, oldest first, kept for the scale-down stabilization window. */
  recommendations: { at: number; replicas: number }[];
}

export function kedaInitialMemory(policy: KedaPolicy, replicas = 0): KedaMemory {
  return { replicas, lastActiveAt: null, nextPollAt: policy.firstPollAtMs, nextSyncAt: policy.firstSyncAtMs, recommendations: [] };
}

export interface KedaDecision {
  replicas: number;
  memory: KedaMemory;
  /** Why the count changed, when it did. */
  reason: string | null;
}

export function kedaStep(policy: KedaPolicy, input: KedaMemory, now: number, lag: number): KedaDecision {
  const memory: KedaMemory = { ...input, recommendations: [...input.recommendations] };
  const before = memory.replicas;
  let reason: string | null = null;

  // KEDA's own loop: activation from zero and deactivation to zero.
  if (now >= memory.nextPollAt) {
    memory.nextPollAt += policy.pollingIntervalMs;
    const active = lag > policy.activationLagThreshold;
    if (active) {
      memory.lastActiveAt = now;
      if (memory.replicas === 0) {
        memory.replicas = 1;
        reason = `KEDA poll: lag ${lag} > ${policy.activationLagThreshold}, activate`;
      }
    } else if (memory.replicas > 0 && (memory.lastActiveAt === null || now - memory.lastActiveAt >= policy.cooldownPeriodMs)) {
      memory.replicas = 0;
      memory.recommendations = [];
      reason = `KEDA poll: inactive for cooldownPeriod, scale to zero`;
    }
  }

  // The HPA's loop; it does nothing while the target has no replica.
  if (now >= memory.nextSyncAt) {
    memory.nextSyncAt += policy.hpaSyncPeriodMs;
    if (memory.replicas > 0) {
      const current = memory.replicas;
      const metric = Math.min(lag, policy.partitions * policy.lagThreshold);
      const usageRatio = metric / (policy.lagThreshold * current);
      const recommendation = Math.abs(usageRatio - 1) <= policy.hpaTolerance ? current : Math.ceil(metric / policy.lagThreshold);
      memory.recommendations.push({ at: now, replicas: recommendation });
      memory.recommendations = memory.recommendations.filter((r) => r.at > now - policy.scaleDownStabilizationMs);
      // Up: the recommendation at once; down: no lower than the highest one in the window.
      const downFloor = Math.max(...memory.recommendations.map((r) => r.replicas));
      let desired = recommendation > current ? recommendation : Math.min(current, downFloor);
      desired = Math.min(desired, Math.max(2 * current, current + 4));
      desired = Math.max(1, Math.min(policy.maxReplicaCount, desired));
      if (desired !== current) {
        memory.replicas = desired;
        reason = `HPA: lag ${lag} recommends ${recommendation}${desired !== recommendation ? ` (stabilized/limited to ${desired})` : ""}`;
      }
    }
  }

  return { replicas: memory.replicas, memory, reason: memory.replicas !== before ? reason : null };
}
