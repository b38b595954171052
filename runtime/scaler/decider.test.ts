import { describe, expect, it } from "vitest";
import { decide, initialMemory, wantedReplicas, type DeciderMemory, type ScalingPolicy } from "./decider.js";
import type { LoadSample } from "./load-sample.js";
import { drainPerReplica, windowLoad } from "./load-window.js";

const policy: ScalingPolicy = {
  minReplicas: 0,
  lagThreshold: 100,
  activationLagThreshold: 0,
  scaleToZeroAfterMs: 60_000,
  stableWindowMs: 60_000,
  minChangeIntervalMs: 10_000,
  partitions: 6,
};

/** The load of one second: what arrived and how much lag there is; `drained` defaults to keeping up. */
interface Tick {
  arrived: number;
  lag: number;
  drained?: number;
  lagging?: number;
}

/**
 * Runs the decider once a second over `seconds`, with readings built from `load(t)`, and returns the
 * desired count after each second. Ready replicas follow the desired count one second later, as a
 * started worker would.
 */
function simulate(p: ScalingPolicy, start: DeciderMemory, seconds: number, load: (t: number) => Tick, healthy = true) {
  const samples: LoadSample[] = [];
  let memory = start;
  let [endOffsets, committed, ready] = [1_000_000, 1_000_000, start.desired];
  const desired: number[] = [];
  const reasons: string[] = [];
  for (let t = 0; t < seconds; t += 1) {
    const tick = load(t);
    endOffsets += tick.arrived;
    committed += tick.drained ?? tick.arrived;
    const now = 1_000_000 + t * 1_000;
    samples.push({ at: now, lag: tick.lag, endOffsets, committed, partitions: p.partitions, laggingPartitions: tick.lagging ?? (tick.lag > 0 ? p.partitions : 0), ready });
    const decision = decide({ policy: p, samples: samples.slice(-200), memory, now, healthy });
    memory = decision.memory;
    ready = decision.desired;
    desired.push(decision.desired);
    reasons.push(decision.reason);
  }
  return { desired, reasons, memory };
}

const at = (desired: number) => initialMemory(desired, 1_000_000 - 1);

describe("decide", () => {
  it("keeps one replica for a steady stream it keeps up with, however large lagThreshold is", () => {
    for (const lagThreshold of [100, 1_000_000]) {
      const run = simulate({ ...policy, lagThreshold }, at(1), 600, () => ({ arrived: 1_000, lag: 40 }));
      expect(new Set(run.desired), `lagThreshold ${lagThreshold}`).toEqual(new Set([1]));
    }
  });

  it("jumps straight to the needed count in panic when lag grows past twice what the ready replicas hold", () => {
    const run = simulate(policy, at(1), 20, (t) => (t < 3 ? { arrived: 100, lag: 10 } : { arrived: 2_000, lag: 600 * (t - 2), drained: 500 }));
    const firstChange = run.desired.findIndex((d) => d !== 1);
    expect(run.desired[firstChange]).toBe(6);
    expect(run.reasons[firstChange]).toMatch(/^panic/);
    expect(run.memory.mode).toBe("panic");
    // One change only: fewer, larger steps.
    expect(new Set(run.desired.slice(firstChange))).toEqual(new Set([6]));
  });

  it("does not go down while in panic, then halves per step after a calm stable window", () => {
    const busy = simulate(policy, at(1), 20, () => ({ arrived: 3_000, lag: 5_000, drained: 2_000 }));
    expect(busy.desired.at(-1)).toBe(6);
    // Load drops to a trickle that one replica carries.
    const calm = simulate(policy, busy.memory, 200, () => ({ arrived: 10, lag: 1 }));
    const firstDown = calm.desired.findIndex((d) => d < 6);
    expect(firstDown).toBeGreaterThanOrEqual(59);
    expect(calm.desired[firstDown]).toBe(3);
    const steps = calm.desired.filter((d, i) => i === 0 || d !== calm.desired[i - 1]);
    expect(steps).toEqual([6, 3, 2, 1]);
    expect(calm.desired.at(-1)).toBe(1);
  });

  it("scales to zero after scaleToZeroAfterMs with no lag and no records, and only with minReplicas 0", () => {
    const idle = simulate({ ...policy, scaleToZeroAfterMs: 30_000 }, at(1), 40, () => ({ arrived: 0, lag: 0 }));
    expect(idle.desired.indexOf(0)).toBe(30);
    expect(idle.reasons[30]).toMatch(/scale to zero/);
    const kept = simulate({ ...policy, minReplicas: 1, scaleToZeroAfterMs: 30_000 }, at(1), 120, () => ({ arrived: 0, lag: 0 }));
    expect(new Set(kept.desired)).toEqual(new Set([1]));
  });

  it("does not scale to zero while records keep arriving, even when each is done at once", () => {
    const run = simulate({ ...policy, scaleToZeroAfterMs: 10_000 }, at(1), 120, (t) => ({ arrived: t % 5 === 0 ? 1 : 0, lag: 0 }));
    expect(run.desired).not.toContain(0);
  });

  it.each([
    { name: "one record activates one replica", lag: 1, activation: 0, want: 1 },
    { name: "no lag stays at zero", lag: 0, activation: 0, want: 0 },
    { name: "lag at the activation threshold stays at zero", lag: 10, activation: 10, want: 0 },
    { name: "lag above the activation threshold activates", lag: 11, activation: 10, want: 1 },
    { name: "a burst activates as many replicas as its lag asks for, at once", lag: 450, activation: 0, want: 5 },
    { name: "a huge burst activates no more than the partitions", lag: 100_000, activation: 0, want: 6 },
  ])("from zero: $name", ({ lag, activation, want }) => {
    const run = simulate({ ...policy, activationLagThreshold: activation }, at(0), 1, () => ({ arrived: lag, lag, drained: 0 }));
    expect(run.desired[0]).toBe(want);
  });

  it("activates on the first reading after a long idle time, ignoring minChangeIntervalMs", () => {
    const memory = { ...at(0), lastChangeAt: 1_000_000 - 500 };
    const run = simulate({ ...policy, minChangeIntervalMs: 60_000 }, memory, 1, () => ({ arrived: 1, lag: 1, drained: 0 }));
    expect(run.desired[0]).toBe(1);
  });

  it.each([
    { name: "maxReplicas", p: { ...policy, maxReplicas: 2 }, want: 2 },
    { name: "the partition count", p: { ...policy, partitions: 3 }, want: 3 },
    { name: "the partition count, even with a larger maxReplicas", p: { ...policy, partitions: 4, maxReplicas: 50 }, want: 4 },
  ])("caps at $name", ({ p, want }) => {
    const run = simulate(p, at(1), 30, () => ({ arrived: 5_000, lag: 50_000, drained: 1_000 }));
    expect(Math.max(...run.desired)).toBe(want);
  });

  it("keeps minReplicas even when idle", () => {
    const run = simulate({ ...policy, minReplicas: 3, stableWindowMs: 10_000, minChangeIntervalMs: 0 }, at(3), 120, () => ({ arrived: 0, lag: 0 }));
    expect(new Set(run.desired)).toEqual(new Set([3]));
  });

  it("starts minReplicas from zero without lag", () => {
    const run = simulate({ ...policy, minReplicas: 2 }, at(0), 1, () => ({ arrived: 0, lag: 0 }));
    expect(run.desired[0]).toBe(2);
  });

  it("never asks for more replicas than partitions that hold lag", () => {
    // One lagging partition among six idle ones: it scales (to one), not to six.
    const run = simulate(policy, at(0), 30, () => ({ arrived: 0, lag: 5_000, drained: 0, lagging: 1 }));
    expect(new Set(run.desired)).toEqual(new Set([1]));
    const two = simulate(policy, at(1), 30, () => ({ arrived: 0, lag: 5_000, drained: 100, lagging: 2 }));
    expect(two.desired.at(-1)).toBe(2);
  });

  it("waits minChangeIntervalMs between stable-mode increases", () => {
    // Lag asks for 3 replicas with 2 ready: not panic (3 < 4), so the stable window decides, and it waits.
    const memory = { ...at(2), lastChangeAt: 1_000_000 };
    const run = simulate({ ...policy, stableWindowMs: 10_000 }, memory, 15, () => ({ arrived: 200, lag: 280, drained: 200 }));
    const up = run.desired.findIndex((d) => d === 3);
    expect(up).toBeGreaterThanOrEqual(9);
    expect(run.desired.slice(0, up).every((d) => d === 2)).toBe(true);
  });

  it("gives a failing downstream (breaker open) no more replicas", () => {
    const run = simulate(policy, at(2), 90, () => ({ arrived: 500, lag: 20_000, drained: 0 }), false);
    expect(new Set(run.desired)).toEqual(new Set([2]));
  });

  it("adds replicas by the rate one replica has shown when arrivals outgrow it", () => {
    // 1 replica drains 400/s under a growing backlog; 1,000/s arrive: the rate term asks for 3 even with a
    // lagThreshold so high that lag alone would never ask for more than one.
    const run = simulate({ ...policy, lagThreshold: 10_000_000 }, at(1), 120, (t) => ({ arrived: 1_000, lag: 600 * (t + 1), drained: 400 }));
    expect(run.desired.at(-1)).toBeGreaterThanOrEqual(3);
  });
});

describe("wantedReplicas", () => {
  const load = { lag: 0, arrivalPerSec: 0, drainPerSec: 0, laggingPartitions: 6, samples: 10 };
  const stable = { catchUpSeconds: 60, utilization: 1 };
  const panic = { catchUpSeconds: 6, utilization: 1 };
  it.each([
    { name: "idle", l: load, drain: null, want: 0 },
    { name: "a little lag", l: { ...load, lag: 5 }, drain: null, want: 1 },
    { name: "lag ÷ lagThreshold before a replica's rate is known", l: { ...load, lag: 350 }, drain: null, want: 4 },
    { name: "within the tolerance of a whole replica", l: { ...load, lag: 205 }, drain: null, want: 2 },
    { name: "a backlog on few partitions", l: { ...load, lag: 10_000 }, drain: null, want: 6 },
    { name: "a backlog on two partitions only", l: { ...load, lag: 10_000, laggingPartitions: 2 }, drain: null, want: 2 },
    { name: "arrival ÷ one replica's drain", l: { ...load, arrivalPerSec: 2_500 }, drain: 1_000, want: 3 },
    { name: "arrival plus the backlog cleared within the window", l: { ...load, arrivalPerSec: 900, lag: 30_000 }, drain: 1_000, want: 2 },
    { name: "a backlog the replicas clear in a second needs no more of them", l: { ...load, arrivalPerSec: 225, lag: 675 }, drain: 450, want: 1, options: panic },
    { name: "a large backlog in the panic window wants every partition holding lag", l: { ...load, arrivalPerSec: 2_250, lag: 11_250 }, drain: 450, want: 6, options: panic },
    { name: "never more for a backlog than lag ÷ lagThreshold", l: { ...load, lag: 300 }, drain: 10, want: 3, options: panic },
    { name: "headroom for a scale-down", l: { ...load, arrivalPerSec: 900 }, drain: 1_000, want: 2, options: { catchUpSeconds: 60, utilization: 0.8 } },
  ])("$name", ({ l, drain, want, options }) => {
    expect(wantedReplicas(l, drain, policy, options ?? stable)).toBe(want);
  });
});

describe("load windows", () => {
  const sample = (at: number, lag: number, committed: number, ready = 1, endOffsets = 0): LoadSample => ({
    at,
    lag,
    committed,
    endOffsets,
    partitions: 3,
    laggingPartitions: lag > 0 ? 1 : 0,
    ready,
  });

  it("measures the arrival rate from log ends and counts a replay's jump back as no drain", () => {
    const load = windowLoad([sample(0, 10, 100, 1, 1_000), sample(1_000, 10, 50, 1, 1_500), sample(2_000, 10, 250, 1, 2_000)]);
    expect(load.arrivalPerSec).toBe(500);
    expect(load.drainPerSec).toBe(100);
    expect(load.lag).toBe(10);
  });

  it("takes a replica's drain rate only from intervals with a backlog, as a median", () => {
    const saturated = [sample(0, 5_000, 0), sample(1_000, 5_000, 800), sample(2_000, 5_000, 1_600), sample(3_000, 5_000, 1_600), sample(4_000, 5_000, 2_500)];
    // 800, 800, (0: a rebalance, left out), 900 → median 800.
    expect(drainPerReplica(saturated)).toBe(800);
    // Keeping up: little lag, so nothing says how fast a replica could go.
    expect(drainPerReplica([sample(0, 30, 0), sample(1_000, 30, 800), sample(2_000, 30, 1_600), sample(3_000, 30, 2_400)])).toBeNull();
    // Per ready replica, and intervals where the count changed are left out.
    const two = [sample(0, 9_000, 0, 2), sample(1_000, 9_000, 1_000, 2), sample(2_000, 9_000, 2_000, 2), sample(3_000, 9_000, 3_000, 2), sample(4_000, 9_000, 3_100, 3)];
    expect(drainPerReplica(two)).toBe(500);
  });
});
