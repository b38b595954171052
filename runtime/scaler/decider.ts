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
  /** The last scale-down: its own rebalance leaves a backlog that must not read as a surge. */
  lastDownAt: number;
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
    lastDownAt: 0,
    lastWantedAtLeastAt: now,
    lastBusyAt: now,
    drainPerReplica: null,
  };
}

/** Mean excess over a whole replica forgiven before another is wanted, so noise around a boundary does not add one. */
const TOLERANCE = 0.1;

/**
 * Scale-down leaves this much headroom: fewer replicas only when they would run at most this busy.
 * Between it and 100 % the count holds (hysteresis), so the pause a scale-down itself causes does not
 * leave a backlog that asks for the replica back.
 */
export const SCALE_DOWN_UTILIZATION = 0.7;

/**
 * Scale-up aims for replicas at most this busy once their rate is known: at 100 % a backlog (a burst,
 * a rebalance's pause) would never drain while the load holds.
 */
export const SCALE_UP_UTILIZATION = 0.9;

export interface WantedOptions {
  /** The time a backlog should be cleared in, in seconds (the window's length). */
  catchUpSeconds: number;
  /** How busy replicas may be: `SCALE_UP_UTILIZATION` to decide scale-up, `SCALE_DOWN_UTILIZATION` to allow a scale-down. */
  utilization: number;
}

/**
 * Replicas a window of load asks for, before clamping.
 *
 * Until a replica's drain rate has been measured, lag ÷ lagThreshold (KEDA's rule), but never more
 * replicas than partitions holding that lag (the others would idle). Once it has, the catch-up form
 * (Flink's autoscaler, DS2): keep up with arrivals and clear the backlog within the window,
 * (arrival + lag ÷ T) ÷ drain per replica, with T at least lagThreshold ÷ drain, the time one replica
 * takes to clear the lag it may hold, so this never asks for more than lag ÷ lagThreshold would for the
 * backlog. It knows that a backlog the replicas clear in a second (a rebalance's pause) needs no more
 * of them, which lag alone cannot tell.
 */
export function wantedReplicas(load: WindowLoad, drain: number | null, policy: ScalingPolicy, options: WantedOptions): number {
  const busy = load.lag > 0 || load.arrivalPerSec > 0 ? 1 : 0;
  if (drain !== null && drain > 0) {
    const catchUpSeconds = Math.max(options.catchUpSeconds, policy.lagThreshold / drain);
    const needed = Math.ceil((load.arrivalPerSec / options.utilization + load.lag / catchUpSeconds) / drain - TOLERANCE);
    // Replicas beyond the partitions holding lag help only with what keeps arriving.
    const useful = Math.max(load.laggingPartitions, Math.ceil(load.arrivalPerSec / options.utilization / drain - TOLERANCE));
    return Math.max(busy, Math.min(needed, useful));
  }
  // Scale-down reads lag with the same headroom as rates: fewer replicas only when each would hold at most
  // SCALE_DOWN_UTILIZATION × lagThreshold (records in flight alone can sit near one threshold per replica).
  const perReplica = policy.lagThreshold * (options.utilization < SCALE_UP_UTILIZATION ? options.utilization : 1);
  const byLag = Math.min(Math.ceil(load.lag / perReplica - TOLERANCE), Math.max(1, load.laggingPartitions));
  return Math.max(busy, byLag);
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
 *   scale-down waits until the stable window has allowed fewer replicas (with headroom, and not below
 *   what the panic window wants) for a whole window, not while arrivals rise, and at most halves the
 *   count per step.
 * - Panic: when the panic window (a tenth of the stable one) wants at least twice the ready replicas and
 *   the ready ones would not clear the backlog within it, the count jumps there at once and does not go
 *   down until a stable window has passed without that. Not right after a scale-down, whose own
 *   rebalance leaves a backlog, and not again while the replicas it asked for are still starting.
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
    if (desired < current) memory.lastDownAt = now;
    memory.desired = desired;
    return { desired, reason, changed, memory, load: panic, drainPerReplicaPerSec: drain };
  };

  if (!latest) return done(clamp(current, lower, upper), "no reading yet");

  // From zero: one reading is enough.
  if (current === 0) {
    if (latest.lag > policy.activationLagThreshold) {
      const wanted = clamp(wantedReplicas(panic, drain, policy, { catchUpSeconds: policy.stableWindowMs / 10_000, utilization: SCALE_UP_UTILIZATION }), Math.max(1, lower), upper);
      memory.lastWantedAtLeastAt = now;
      return done(wanted, `activation: lag ${latest.lag} above ${policy.activationLagThreshold}`);
    }
    if (lower > 0) return done(lower, `minReplicas ${lower}`);
    return done(0, "idle");
  }

  const stableSeconds = policy.stableWindowMs / 1_000;
  const stableWanted = wantedReplicas(stable, drain, policy, { catchUpSeconds: stableSeconds, utilization: SCALE_UP_UTILIZATION });
  const panicWanted = wantedReplicas(panic, drain, policy, { catchUpSeconds: stableSeconds / 10, utilization: SCALE_UP_UTILIZATION });
  // What scale-down may go to: headroom over the stable window, and never below what the panic window wants now.
  const downWanted = Math.max(wantedReplicas(stable, drain, policy, { catchUpSeconds: stableSeconds, utilization: SCALE_DOWN_UTILIZATION }), panicWanted);
  if (downWanted >= current) memory.lastWantedAtLeastAt = now;
  // A new count is judged only once it has worked: until all its replicas are ready and the group has
  // finished records for a whole interval since the change (bounded by minChangeIntervalMs), asking
  // again would stack one rebalance on another, on a backlog that piled up while they started.
  const starting = !workedSince(samples, memory.lastChangeAt, current) && now - memory.lastChangeAt < policy.minChangeIntervalMs;

  // Panic (KPA): the panic window asks for at least twice the ready replicas, and the replicas there are
  // would not clear the backlog within the panic window at the pace they go now. Every change stops the
  // whole group for a moment (an eager rebalance), and the records that arrive meanwhile show up as lag:
  // a backlog the replicas clear in a second once the group resumes must not ask for replicas, and for
  // `minChangeIntervalMs` after a scale-down, nothing is read as a surge (else each step down would
  // panic straight back up).
  const pace = lastInterval(samples);
  const gaining = pace.drainPerSec - pace.arrivalPerSec;
  const clearsInPanicWindow = latest.lag === 0 || (gaining > 0 && latest.lag / gaining <= policy.stableWindowMs / 10_000);
  const afterScaleDown = now - memory.lastDownAt < policy.minChangeIntervalMs;
  if (healthy && panicWanted >= 2 * Math.max(1, ready) && panicWanted > lower && !clearsInPanicWindow && !afterScaleDown) {
    memory.mode = "panic";
    memory.panicUntil = now + policy.stableWindowMs;
    memory.lastWantedAtLeastAt = now;
  } else if (memory.mode === "panic" && now >= memory.panicUntil) {
    memory.mode = "stable";
  }

  if (memory.mode === "panic") {
    const target = clamp(Math.max(current, panicWanted), lower, upper);
    if (target > current && starting) return done(current, "panic: waiting for the replicas just asked for to work");
    if (target > current) return done(target, `panic: lag ${Math.round(panic.lag)}, ${round(panic.arrivalPerSec)}/s arriving wants ${panicWanted}, ${ready} ready`);
    return done(current, "panic: holding until a stable window is calm");
  }

  const sinceChange = now - memory.lastChangeAt;
  // Scale to zero: nothing to do for long enough.
  if (lower === 0 && now - memory.lastBusyAt >= policy.scaleToZeroAfterMs && latest.lag === 0) {
    return done(0, `idle for ${Math.round((now - memory.lastBusyAt) / 1_000)} s: scale to zero`);
  }

  // A failing downstream (breaker open) gets no more replicas: they would only fail too.
  // A step up goes to what the freshest window wants too: the stable mean trails a rising load, and
  // following it would climb one replica (one rebalance) at a time.
  const upWanted = Math.max(stableWanted, panicWanted);
  const up = clamp(healthy ? upWanted : Math.min(upWanted, current), Math.max(1, lower), upper);
  if (up > current) {
    if (sinceChange < policy.minChangeIntervalMs) return done(current, `scale-up to ${up} waits minChangeIntervalMs`);
    return done(up, `lag ${Math.round(stable.lag)}, ${round(stable.arrivalPerSec)}/s arriving over the stable window wants ${stableWanted}, the panic window ${panicWanted}`);
  }
  const down = clamp(downWanted, Math.max(1, lower), upper);
  if (down < current) {
    const calmFor = now - memory.lastWantedAtLeastAt;
    if (calmFor < policy.stableWindowMs || sinceChange < policy.minChangeIntervalMs) return done(current, "scale-down waits for a calm stable window");
    // The stable window trails a rising load: no step down while arrivals are above its mean.
    if (panic.arrivalPerSec > stable.arrivalPerSec) return done(current, "scale-down waits: arrivals are rising");
    const next = Math.max(down, Math.ceil(current / 2));
    return done(next, `the stable window wants ${down} (lag ${Math.round(stable.lag)}, ${round(stable.arrivalPerSec)}/s arriving)`);
  }
  return done(current, "steady");
}

const round = (n: number) => Math.round(n * 10) / 10;

/** True when, since `since`, two consecutive readings saw `count` replicas ready and records finished between them. */
function workedSince(samples: readonly LoadSample[], since: number, count: number): boolean {
  for (let i = samples.length - 1; i > 0; i -= 1) {
    const [before, after] = [samples[i - 1]!, samples[i]!];
    if (before.at < since) return false;
    if (before.ready === count && after.ready === count && after.committed > before.committed) return true;
  }
  return false;
}

/** Arrival and drain over the last interval between two readings: the group's pace right now. */
function lastInterval(samples: readonly LoadSample[]): { arrivalPerSec: number; drainPerSec: number } {
  if (samples.length < 2) return { arrivalPerSec: 0, drainPerSec: 0 };
  const load = windowLoad(samples.slice(-2));
  return { arrivalPerSec: load.arrivalPerSec, drainPerSec: load.drainPerSec };
}
