import type { LoadSample } from "./load-sample.js";

/** What a span of readings says about a function's load: the decider's inputs over one window. */
export interface WindowLoad {
  /** Mean lag over the window. */
  lag: number;
  /** Records arriving per second (log ends' growth). */
  arrivalPerSec: number;
  /** Records finished per second by the whole group (committed positions' growth; a replay's jump back counts as 0). */
  drainPerSec: number;
  /** The most partitions that had lag at once in the window. */
  laggingPartitions: number;
  /** Readings in the window. */
  samples: number;
}

/** The readings taken in the last `ms` before `now`, oldest first. */
export function lastWindow(samples: readonly LoadSample[], now: number, ms: number): LoadSample[] {
  return samples.filter((s) => s.at > now - ms && s.at <= now);
}

/** Load over a window of readings (at least two are needed for rates; with fewer the rates are 0). */
export function windowLoad(window: readonly LoadSample[]): WindowLoad {
  const samples = window.length;
  if (samples === 0) return { lag: 0, arrivalPerSec: 0, drainPerSec: 0, laggingPartitions: 0, samples };
  let arrived = 0;
  let drained = 0;
  for (let i = 1; i < samples; i += 1) {
    const [before, after] = [window[i - 1]!, window[i]!];
    arrived += Math.max(0, after.endOffsets - before.endOffsets);
    drained += Math.max(0, after.committed - before.committed);
  }
  const seconds = samples > 1 ? (window[samples - 1]!.at - window[0]!.at) / 1_000 : 0;
  return {
    lag: window.reduce((sum, s) => sum + s.lag, 0) / samples,
    arrivalPerSec: seconds > 0 ? arrived / seconds : 0,
    drainPerSec: seconds > 0 ? drained / seconds : 0,
    laggingPartitions: Math.max(...window.map((s) => s.laggingPartitions)),
    samples,
  };
}

/** Fewest saturated intervals before a replica's drain rate is trusted. */
const MIN_SATURATED_INTERVALS = 3;

/**
 * The drain rate one replica has shown while it had a backlog: records finished per second per ready
 * replica, the median over the intervals in which the backlog never ran dry (lag at both ends at least
 * what was finished in between), so a replica that merely keeps up, or that waits for records, does not
 * pass for a slow one; intervals in which nothing was finished (a rebalance's pause) are left out, and
 * the median ignores what is left of such pauses. Null until enough intervals were saturated.
 */
export function drainPerReplica(window: readonly LoadSample[]): number | null {
  const rates: number[] = [];
  for (let i = 1; i < window.length; i += 1) {
    const [before, after] = [window[i - 1]!, window[i]!];
    const drained = after.committed - before.committed;
    const seconds = (after.at - before.at) / 1_000;
    // A group that finished nothing was stopped (a rebalance, a breaker): that says nothing of a replica's speed.
    if (seconds <= 0 || drained <= 0 || before.ready === 0 || after.ready !== before.ready) continue;
    if (Math.min(before.lag, after.lag) < Math.max(1, drained)) continue;
    rates.push(drained / seconds / after.ready);
  }
  if (rates.length < MIN_SATURATED_INTERVALS) return null;
  rates.sort((a, b) => a - b);
  const middle = Math.floor(rates.length / 2);
  return rates.length % 2 === 1 ? rates[middle]! : (rates[middle - 1]! + rates[middle]!) / 2;
}
