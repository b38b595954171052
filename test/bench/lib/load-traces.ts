import { existsSync, readFileSync } from "node:fs";
import type { Arrivals } from "./group-model.js";

/** A load for the scaler simulation: records arriving over simulated time, from 0 to `durationMs`. */
export interface LoadTrace {
  id: string;
  /** What it is, in words, for the report. */
  description: string;
  durationMs: number;
  /** Where the load the trace is about begins: lag is measured from here. */
  loadStartMs: number;
  arrivals: Arrivals;
}

/** A trace that could not be run, and why. */
export interface SkippedTrace {
  id: string;
  description: string;
  skipped: string;
}

const MINUTE = 60_000;
/** Every synthetic trace lasts 30 minutes and starts its load after one idle minute. */
const DURATION_MS = 30 * MINUTE;
const START_MS = MINUTE;

/** Arrivals from a rate in records/s, taken at the middle of each interval (the model's ticks divide every change point). */
function fromRate(rate: (ms: number) => number): Arrivals {
  return (fromMs, toMs) => Math.max(0, rate((fromMs + toMs) / 2)) * ((toMs - fromMs) / 1_000);
}

/** The four synthetic loads, in multiples of one replica's capacity (records/s). */
export function syntheticTraces(capacity: number): LoadTrace[] {
  const step: LoadTrace = {
    id: "step",
    description: `idle, then 5× one replica's capacity (${5 * capacity}/s) from 1 min to 20 min, then idle to 30 min`,
    durationMs: DURATION_MS,
    loadStartMs: START_MS,
    arrivals: fromRate((ms) => (ms >= START_MS && ms < 20 * MINUTE ? 5 * capacity : 0)),
  };
  // Late enough that both scalers have settled on the base load (KEDA's scale-down stabilization after
  // its start is 5 min): the spike meets each scaler's steady state, not the tail of its start.
  const spikeAt = 10 * MINUTE;
  const spike: LoadTrace = {
    id: "spike",
    description: `0.5× capacity throughout, with 30 s at 8× at 10 min (measured from the spike)`,
    durationMs: DURATION_MS,
    loadStartMs: spikeAt,
    arrivals: fromRate((ms) => (ms >= spikeAt && ms < spikeAt + 30_000 ? 8 * capacity : 0.5 * capacity)),
  };
  const toothMs = 4 * MINUTE;
  const sawtoothEnd = START_MS + 6 * toothMs;
  const sawtooth: LoadTrace = {
    id: "sawtooth",
    description: "from 1 min: six 4-minute teeth, each a ramp from 0.5× to 4× capacity and a drop back; idle after 25 min",
    durationMs: DURATION_MS,
    loadStartMs: START_MS,
    arrivals: fromRate((ms) => (ms >= START_MS && ms < sawtoothEnd ? capacity * (0.5 + (3.5 * ((ms - START_MS) % toothMs)) / toothMs) : 0)),
  };
  const dayEnd = 26 * MINUTE;
  const diurnal: LoadTrace = {
    id: "diurnal",
    description: "a slow half sine from 0 at 1 min up to 4× capacity at 13.5 min and back to 0 at 26 min; idle after",
    durationMs: DURATION_MS,
    loadStartMs: START_MS,
    arrivals: fromRate((ms) => (ms >= START_MS && ms < dayEnd ? 4 * capacity * Math.sin((Math.PI * (ms - START_MS)) / (dayEnd - START_MS)) : 0)),
  };
  return [step, spike, sawtooth, diurnal];
}

/** Idle time after a recorded trace, so both scalers have room to scale down (KEDA's cooldown is 5 min). */
const RECORDED_TAIL_MS = 6 * MINUTE;

/**
 * `recorded-trace.json` (`{ source, stepMs, arrivals }`: records arriving in each step), or why it
 * cannot be used. Never made up: a missing or malformed file skips the trace.
 */
export function recordedTrace(file: string): LoadTrace | SkippedTrace {
  const base = { id: "recorded", description: "a recorded load" };
  if (!existsSync(file)) return { ...base, skipped: `no ${file}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    return { ...base, skipped: `${file} is not JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const { source, stepMs, arrivals } = (parsed ?? {}) as { source?: unknown; stepMs?: unknown; arrivals?: unknown };
  if (typeof source !== "string") return { ...base, skipped: `${file}: "source" is not a string` };
  if (typeof stepMs !== "number" || !Number.isFinite(stepMs) || stepMs <= 0) return { ...base, skipped: `${file}: "stepMs" is not a positive number` };
  if (!Array.isArray(arrivals) || arrivals.length === 0 || !arrivals.every((a) => typeof a === "number" && Number.isFinite(a) && a >= 0)) {
    return { ...base, skipped: `${file}: "arrivals" is not a non-empty list of counts` };
  }
  const counts = arrivals as number[];
  const first = counts.findIndex((a) => a > 0);
  if (first < 0) return { ...base, skipped: `${file}: no record arrives in it` };
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    id: "recorded",
    description: `recorded: ${source} (${counts.length} steps of ${stepMs} ms, ${Math.round(total).toLocaleString("en-US")} records), then ${RECORDED_TAIL_MS / MINUTE} min idle`,
    durationMs: counts.length * stepMs + RECORDED_TAIL_MS,
    loadStartMs: first * stepMs,
    // Each step's records spread evenly over the step; the exact share of every step an interval overlaps.
    arrivals: (fromMs, toMs) => {
      let records = 0;
      const last = Math.min(counts.length - 1, Math.floor((toMs - 1e-9) / stepMs));
      for (let i = Math.max(0, Math.floor(fromMs / stepMs)); i <= last; i += 1) {
        const overlap = Math.min(toMs, (i + 1) * stepMs) - Math.max(fromMs, i * stepMs);
        if (overlap > 0) records += (counts[i]! * overlap) / stepMs;
      }
      return records;
    },
  };
}
