/** How often the control plane samples each function, and how many samples it keeps: one hour. */
export const HISTORY_INTERVAL_MS = 5_000;
export const HISTORY_KEPT = 720;

/** One point of `GET /v1/functions/:name/history`. Rates are per second over the interval before `at`. */
export interface HistorySample {
  at: string;
  lag: number;
  arrivalPerSec: number;
  processedPerSec: number;
  failedPerSec: number;
  deadLetteredPerSec: number;
  replicasDesired: number;
  replicasReady: number;
  p99Ms: number;
}

/** A change of replica count the scaler made, and why. */
export interface ScalingMark {
  at: string;
  from: number;
  to: number;
  reason: string;
}

/** What one look at a function's status gives: counters that only grow, and the gauges of the moment. */
export interface Reading {
  atMs: number;
  lag: number;
  arrivalPerSec: number;
  processed: number;
  failed: number;
  deadLettered: number;
  replicasDesired: number;
  replicasReady: number;
  p99Ms: number;
}

/**
 * The last hour of every function, in memory (the dashboard's charts): a bounded list of samples per
 * function, with rates taken from the growth of its counters between two readings, and the scaling
 * decisions of the same hour. A control plane that restarts starts an empty history.
 */
export class FunctionHistory {
  readonly #samples = new Map<string, HistorySample[]>();
  readonly #last = new Map<string, Reading>();
  readonly #decisions = new Map<string, ScalingMark[]>();

  constructor(private readonly kept = HISTORY_KEPT) {}

  record(name: string, reading: Reading): void {
    const previous = this.#last.get(name);
    this.#last.set(name, reading);
    const seconds = previous === undefined ? 0 : (reading.atMs - previous.atMs) / 1000;
    // A counter that went down was reset (the function was deleted and deployed again): no rate for that interval.
    const rate = (now: number, before: number | undefined) => (seconds > 0 && before !== undefined && now >= before ? (now - before) / seconds : 0);
    const samples = this.#samples.get(name) ?? [];
    samples.push({
      at: new Date(reading.atMs).toISOString(),
      lag: reading.lag,
      arrivalPerSec: reading.arrivalPerSec,
      processedPerSec: rate(reading.processed, previous?.processed),
      failedPerSec: rate(reading.failed, previous?.failed),
      deadLetteredPerSec: rate(reading.deadLettered, previous?.deadLettered),
      replicasDesired: reading.replicasDesired,
      replicasReady: reading.replicasReady,
      p99Ms: reading.p99Ms,
    });
    if (samples.length > this.kept) samples.splice(0, samples.length - this.kept);
    this.#samples.set(name, samples);
  }

  decision(name: string, mark: ScalingMark): void {
    const marks = this.#decisions.get(name) ?? [];
    marks.push(mark);
    if (marks.length > this.kept) marks.splice(0, marks.length - this.kept);
    this.#decisions.set(name, marks);
  }

  /** The function's samples, oldest first, and the decisions since the oldest sample. */
  of(name: string): { samples: HistorySample[]; decisions: ScalingMark[] } {
    const samples = this.#samples.get(name) ?? [];
    const since = samples[0]?.at ?? "";
    return { samples: [...samples], decisions: (this.#decisions.get(name) ?? []).filter((d) => d.at >= since) };
  }

  forget(name: string): void {
    this.#samples.delete(name);
    this.#last.delete(name);
    this.#decisions.delete(name);
  }
}
