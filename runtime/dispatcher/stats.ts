/** What a replica reports about its work; summed over replicas for `GET /v1/functions/:name`. */
export interface DispatchStats {
  processed: number;
  failed: number;
  retried: number;
  deadLettered: number;
  p50Ms: number;
  p99Ms: number;
}

const WINDOW = 1_024;

/** Counters plus a sliding window of recent invocation durations for the percentiles. */
export class StatsRecorder {
  private processed = 0;
  private failed = 0;
  private retried = 0;
  private deadLettered = 0;
  private readonly durations: number[] = [];
  private next = 0;

  recordInvocation(durationMs: number): void {
    if (this.durations.length < WINDOW) this.durations.push(durationMs);
    else this.durations[this.next] = durationMs;
    this.next = (this.next + 1) % WINDOW;
  }

  add(counts: Partial<Pick<DispatchStats, "processed" | "failed" | "retried" | "deadLettered">>): void {
    this.processed += counts.processed ?? 0;
    this.failed += counts.failed ?? 0;
    this.retried += counts.retried ?? 0;
    this.deadLettered += counts.deadLettered ?? 0;
  }

  snapshot(): DispatchStats {
    const sorted = [...this.durations].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0));
    return {
      processed: this.processed,
      failed: this.failed,
      retried: this.retried,
      deadLettered: this.deadLettered,
      p50Ms: Math.round(at(0.5) * 100) / 100,
      p99Ms: Math.round(at(0.99) * 100) / 100,
    };
  }
}
