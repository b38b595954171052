/** How big each scenario is. `--quick` shrinks every count and duration so the whole run fits in two minutes. */
export interface BenchSizes {
  throughput: { records: number; partitions: number; valueBytes: number; timeoutMs: number; rounds: number };
  latency: { ratePerSecond: number; durationMs: number; partitions: number; drainMs: number; warmUpMs: number };
  /** `sequentialRecords`: what the one-record-at-a-time variants read (the first of `records`). */
  slowHandler: { records: number; sequentialRecords: number; keys: number; callMs: number; timeoutMs: number };
  sandbox: { recordsPerCase: number; batchSizes: number[] };
  coldStart: { deploys: number; isolates: number };
  memory: { functions: number[]; settleMs: number; cpuWindowMs: number };
  profile: { records: number; partitions: number; valueBytes: number; timeoutMs: number };
  tracing: { records: number; partitions: number; valueBytes: number; timeoutMs: number; rounds: number };
  /** `keys` must be a multiple of `partitions`, so that each key stays on one partition (records go round-robin). */
  stateful: { records: number; keys: number; partitions: number; valueBytes: number; timeoutMs: number; rounds: number; restores: number };
}

export interface BenchOptions {
  quick: boolean;
  /** Scenario ids to run (all when empty): `--only throughput,latency`. For working on the bench, not for reports. */
  only: string[];
  sizes: BenchSizes;
  /** The command as a user types it, for the report. */
  command: string;
}

const FULL: BenchSizes = {
  throughput: { records: 1_500_000, partitions: 6, valueBytes: 100, timeoutMs: 120_000, rounds: 3 },
  latency: { ratePerSecond: 1_000, durationMs: 20_000, partitions: 6, drainMs: 10_000, warmUpMs: 2_000 },
  slowHandler: { records: 3_000, sequentialRecords: 1_000, keys: 1_000, callMs: 10, timeoutMs: 120_000 },
  sandbox: { recordsPerCase: 20_000, batchSizes: [1, 10, 100] },
  coldStart: { deploys: 10, isolates: 10 },
  memory: { functions: [1, 10], settleMs: 3_000, cpuWindowMs: 10_000 },
  profile: { records: 500_000, partitions: 6, valueBytes: 100, timeoutMs: 120_000 },
  tracing: { records: 200_000, partitions: 6, valueBytes: 100, timeoutMs: 120_000, rounds: 2 },
  stateful: { records: 48_000, keys: 1_200, partitions: 6, valueBytes: 100, timeoutMs: 120_000, rounds: 3, restores: 3 },
};

export const QUICK_SIZES: BenchSizes = {
  throughput: { records: 20_000, partitions: 6, valueBytes: 100, timeoutMs: 30_000, rounds: 2 },
  latency: { ratePerSecond: 1_000, durationMs: 2_000, partitions: 6, drainMs: 5_000, warmUpMs: 500 },
  slowHandler: { records: 150, sequentialRecords: 50, keys: 150, callMs: 10, timeoutMs: 20_000 },
  sandbox: { recordsPerCase: 2_000, batchSizes: [1, 10, 100] },
  coldStart: { deploys: 2, isolates: 3 },
  memory: { functions: [1, 2], settleMs: 1_000, cpuWindowMs: 2_000 },
  profile: { records: 20_000, partitions: 6, valueBytes: 100, timeoutMs: 30_000 },
  tracing: { records: 20_000, partitions: 6, valueBytes: 100, timeoutMs: 30_000, rounds: 1 },
  stateful: { records: 12_000, keys: 1_200, partitions: 6, valueBytes: 100, timeoutMs: 30_000, rounds: 1, restores: 1 },
};

export const SCENARIO_IDS = ["throughput", "latency", "slow-handler", "sandbox-overhead", "cold-start", "memory", "scale-out", "scaler-simulation", "profile", "tracing", "stateful"] as const;

export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes("--quick");
  const onlyIndex = argv.indexOf("--only");
  const only = onlyIndex >= 0 ? (argv[onlyIndex + 1] ?? "").split(",").filter(Boolean) : [];
  for (const id of only) {
    if (!(SCENARIO_IDS as readonly string[]).includes(id)) throw new Error(`--only: unknown scenario "${id}" (known: ${SCENARIO_IDS.join(", ")})`);
  }
  const command = `npm run bench${quick || only.length > 0 ? ` -- ${argv.join(" ")}` : ""}`;
  return { quick, only, sizes: quick ? QUICK_SIZES : FULL, command };
}
