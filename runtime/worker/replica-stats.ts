import type { CircuitState } from "../dispatcher/circuit-breaker.js";
import type { DispatchStats } from "../dispatcher/stats.js";

export const NO_STATS: DispatchStats = { processed: 0, failed: 0, retried: 0, deadLettered: 0, p50Ms: 0, p99Ms: 0 };

/**
 * A function's counters over all its replicas: the live ones' latest reports plus what replicas that
 * stopped (scaled down, replaced, crashed) had counted, so scaling never makes a counter go back.
 * Durations are per replica; the function shows the slowest replica's.
 */
export function sumStats(retired: DispatchStats, live: DispatchStats[]): DispatchStats {
  const total = { ...retired };
  for (const s of live) {
    total.processed += s.processed;
    total.failed += s.failed;
    total.retried += s.retried;
    total.deadLettered += s.deadLettered;
  }
  if (live.length > 0) {
    total.p50Ms = Math.max(...live.map((s) => s.p50Ms));
    total.p99Ms = Math.max(...live.map((s) => s.p99Ms));
  }
  return total;
}

const severity: Record<CircuitState, number> = { closed: 0, "half-open": 1, open: 2 };

/** The worst circuit state over the replicas (SPEC §6: open, half-open or closed). */
export function worstCircuit(states: CircuitState[]): CircuitState {
  return states.reduce<CircuitState>((worst, s) => (severity[s] > severity[worst] ? s : worst), "closed");
}
