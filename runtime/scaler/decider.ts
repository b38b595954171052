import type { LoadSample } from "./load-sample.js";
import { drainPerReplica, lastWindow, windowLoad, type WindowLoad } from "./load-window.js";

/** A function's scaling settings (SPEC §3 `scaling`) with its partition count resolved. */
export interface ScalingPolicy {
  minReplicas: number;
  /** Undefined: one replica per partition at most. */
  maxReplicas?: number;
  lagThreshold: number;
  activationLagThreshold: number;
  scaleToZeroAfterMs: number;
  stableWindowMs: number;
  minChangeIntervalMs: number;
  partitions: number;
}

export type ScalerMode = "stable" | "panic";

/** What the decider carries from one decision to the next. */
export interface DeciderMemory {
  desired: number;
  mode: ScalerMode;
  /** In panic: when it ends unless the panic condition holds again (a stable window after it last held). */
  panicUntil: number;
  lastChangeAt: number;
  /** The last time the stable window wanted at least the desired count: scale-down waits a stable window from it. */
  lastWantedAtLeastAt: number;
  /** The last time there was lag or records arrived: scale-to-zero waits `scaleToZeroAfterMs` from it. */
  lastBusyAt: number;
  /** The drain rate one replica last showed under a backlog, remembered past the window that measured it. */
  drainPerReplica: number | null;
}

export interface DeciderInput {
  policy: ScalingPolicy;
  /** Readings, oldest first, covering at least the stable window when there is that much history. */
  samples: readonly LoadSample[];
  memory: DeciderMemory;
  now: number;
  /** False while a replica's circuit breaker is not closed: a failing downstream does not get more replicas. */
  healthy: boolean;
}

export interface Decision {
  desired: number;
  /** Why the count is what it is (or changed), for the log and `lastChange`. */
  reason: string;
  changed: boolean;
  memory: DeciderMemory;
  /** Load over the panic window (the freshest view), for status and metrics. */
  load: WindowLoad;
  drainPerReplicaPerSec: number | null;
}

/** The memory of a function that was just deployed (or whose control plane just started) with `desired` replicas. */
export function initialMemory(desired: number, now: number): DeciderMemory {
  return {
    desired,
    mode: "stable",
    panicUntil: 0,
    lastChangeAt: now,
    lastWantedAtLeastAt: now,
    lastBusyAt: now,
    drainPerReplica: null,
  };
}

/** Mean excess over a whole replica forgiven before another is wanted, so noise around a boundary does not add one. */
const TOLERANCE = 0.1;

/** Replicas a window of load asks for, before clamping. */
export function wantedReplicas(load: WindowLoad, drain: number | null, policy: ScalingPolicy): number {
  // Lag ÷ lagThreshold, as KEDA, but never more replicas than partitions holding that lag: the others would idle.
  const byLag = Math.min(Math.ceil(load.lag / policy.lagThreshold - TOLERANCE), Math.max(1, load.laggingPartitions));
  // Keep up with arrivals, and drain the backlog within a stable window, at the rate one replica has shown
  // (the catch-up form of Flink's autoscaler). Unknown until a replica has worked under a backlog.
  const catchUpSeconds = policy.stableWindowMs / 1_000;
  const byRate = drain && drain > 0 ? Math.ceil((load.arrivalPerSec + load.lag / catchUpSeconds) / drain - TOLERANCE) : 0;
  const busy = load.lag > 0 || load.arrivalPerSec > 0 ? 1 : 0;
  return Math.max(byLag, byRate, busy);
}

function bounds(policy: ScalingPolicy): { lower: number; upper: number } {
  const upper = Math.max(1, Math.min(policy.maxReplicas ?? policy.partitions, policy.partitions));
  return { lower: Math.min(policy.minReplicas, upper), upper };
}

const clamp = (n: number, lower: number, upper: number) => Math.min(upper, Math.max(lower, n));

/**
 * Knative's KPA, adapted to consumer lag (SPEC §7). Pure: the same input gives the same decision.
 *
 * - Stable mode follows the stable window. Scale-up waits `minChangeIntervalMs` after the last change;
 *   scale-down waits until the stable window has wanted fewer replicas for a whole window, and at most
 *   halves the count per step.
 * - Panic: when the panic window (a tenth of the stable one) wants at least twice the ready replicas, the
 *   count jumps there at once and does not go down until a stable window has passed without that.
 * - From zero: lag above `activationLagThreshold` starts replicas at once (as many as the lag asks for,
 *   so a burst does not pay a second rebalance). To zero: `scaleToZeroAfterMs` with no lag and no records.
 */
export function decide(input: DeciderInput): Decision {
  const { policy, samples, now, healthy } = input;
  const memory = { ...input.memory };
  const { lower, upper } = bounds(policy);
  const stable = windowLoad(lastWindow(samples, now, policy.stableWindowMs));
  const latest = samples.at(-1);
  // The panic window's rates, with the latest lag rather than its mean: lag already sums the excess of
  // arrivals over drain, and averaging it again would make a growing backlog look smaller than it is.
  const panicLoad = windowLoad(lastWindow(samples, now, policy.stableWindowMs / 10));
  const panic = latest ? { ...panicLoad, lag: latest.lag, laggingPartitions: latest.laggingPartitions } : panicLoad;
  const ready = latest?.ready ?? 0;

  const measured = drainPerReplica(lastWindow(samples, now, policy.stableWindowMs));
  if (measured !== null) memory.drainPerReplica = measured;
  const drain = memory.drainPerReplica;

  if (latest && (latest.lag > 0 || panic.arrivalPerSec > 0)) memory.lastBusyAt = now;
  const current = memory.desired;
  const done = (desired: number, reason: string): Decision => {
    const changed = desired !== current;
    if (changed) memory.lastChangeAt = now;
    memory.desired = desired;
    return { desired, reason, changed, memory, load: panic, drainPerReplicaPerSec: drain };
  };

  if (!latest) return done(clamp(current, lower, upper), "no reading yet");

  // From zero: one reading is enough.
  if (current === 0) {
    if (latest.lag > policy.activationLagThreshold) {
      const wanted = clamp(wantedReplicas(panic, drain, policy), Math.max(1, lower), upper);
      memory.lastWantedAtLeastAt = now;
      return done(wanted, `activation: lag ${latest.lag} above ${policy.activationLagThreshold}`);
    }
    if (lower > 0) return done(lower, `minReplicas ${lower}`);
    return done(0, "idle");
  }

  const stableWanted = wantedReplicas(stable, drain, policy);
  const panicWanted = wantedReplicas(panic, drain, policy);
  if (stableWanted >= current) memory.lastWantedAtLeastAt = now;

  // Panic (KPA): the panic window asks for at least twice the ready replicas.
  if (healthy && panicWanted >= 2 * Math.max(1, ready) && panicWanted > lower) {
    memory.mode = "panic";
    memory.panicUntil = now + policy.stableWindowMs;
    memory.lastWantedAtLeastAt = now;
  } else if (memory.mode === "panic" && now >= memory.panicUntil) {
    memory.mode = "stable";
  }

  if (memory.mode === "panic") {
    const target = clamp(Math.max(current, panicWanted), lower, upper);
    if (target > current) return done(target, `panic: lag ${Math.round(panic.lag)}, ${round(panic.arrivalPerSec)}/s arriving wants ${panicWanted}, ${ready} ready`);
    return done(current, "panic: holding until a stable window is calm");
  }

  const sinceChange = now - memory.lastChangeAt;
  // Scale to zero: nothing to do for long enough.
  if (lower === 0 && now - memory.lastBusyAt >= policy.scaleToZeroAfterMs && latest.lag === 0) {
    return done(0, `idle for ${Math.round((now - memory.lastBusyAt) / 1_000)} s: scale to zero`);
  }

  // A failing downstream (breaker open) gets no more replicas: they would only fail too.
  const target = clamp(healthy ? stableWanted : Math.min(stableWanted, current), Math.max(1, lower), upper);
  if (target > current) {
    if (sinceChange < policy.minChangeIntervalMs) return done(current, `scale-up to ${target} waits minChangeIntervalMs`);
    return done(target, `lag ${Math.round(stable.lag)}, ${round(stable.arrivalPerSec)}/s arriving over the stable window wants ${stableWanted}`);
  }
  if (target < current) {
    const calmFor = now - memory.lastWantedAtLeastAt;
    if (calmFor < policy.stableWindowMs || sinceChange < policy.minChangeIntervalMs) return done(current, "scale-down waits for a calm stable window");
    const next = Math.max(target, Math.ceil(current / 2));
    return done(next, `the stable window wants ${stableWanted} (lag ${Math.round(stable.lag)}, ${round(stable.arrivalPerSec)}/s arriving)`);
  }
  return done(current, "steady");
}

const round = (n: number) => Math.round(n * 10) / 10;
