import { performance } from "node:perf_hooks";
import type { FunctionStatus } from "./eddy-instance.js";
import { watchCommits } from "./kafka-tools.js";
import { BaselineProcess, childPids, cpuSeconds, totalCpuSeconds, type BaselineSpec } from "./processes.js";
import { progress, sleep } from "./progress.js";
import type { BenchContext } from "./scenario.js";

/** One timed consumption of a pre-produced topic, by Eddy or by a baseline. */
export interface ConsumeRun {
  label: string;
  total: number;
  complete: boolean;
  /** Records done (Eddy: committed) when the run ended. */
  committed: number;
  /** From the start (deploy request, or spawning the baseline process) to the consumer's group join: process start, isolate, connect, join. */
  toJoinMs: number | null;
  /** From the group join to every record done: the first fetch and all the work. */
  fromJoinMs: number | null;
  /** total / fromJoinMs; for an unfinished run, the records done so far over the time so far. */
  perSecond: number | null;
  /** Eddy only: from the group join to the first commit seen (the first fetch and batch; with state, the restore before them too). */
  joinToFirstCommitMs?: number | null;
  /** Eddy only: the records after the first commit seen over the time from it to the last: the rate without the start. */
  steadyPerSecond?: number | null;
  /** Eddy's own view afterwards (GET /v1/functions/:name), to check nothing failed. */
  eddyStats?: FunctionStatus["stats"];
  /** Lines Eddy's functions logged that start with "eddy-bench-" (how a function tells the bench what it did). */
  markers?: string[];
  /** CPU from the group join to the last record done, per record (see CpuMeter). */
  cpu?: CpuPerRecord;
  /** Why the variant could not run to the end (its row then says so); the other variants still run. */
  error?: string;
}

/** µs of CPU per record, from the group join to the last record done. */
export interface CpuPerRecord {
  /** The consumer's side: the baseline process, or Eddy's worker(s) and its control plane together. */
  consumer: number;
  broker: number;
  /** Eddy only: the consumer side split into its processes. */
  worker?: number;
  controlPlane?: number;
  /** The bench process itself (it polls Eddy's commits; the baseline reports by itself). */
  bench: number;
}

/**
 * CPU seconds of the processes of a run, read from /proc at the join and at the end (10 ms ticks:
 * over windows of several seconds the error is well under 1 %). A process that did not exist at the
 * join (a worker started later) counts from 0.
 */
class CpuMeter {
  #start: Map<number, number> | null = null;
  #recordsBefore = 0;

  constructor(private readonly parts: () => Record<string, number[]>) {}

  joined(recordsBefore: number): void {
    this.#start = new Map(Object.values(this.parts()).flat().map((pid) => [pid, cpuSeconds(pid) ?? 0]));
    this.#recordsBefore = recordsBefore;
  }

  /** µs per record of each part since the join; null when the join was never seen or nothing was done. */
  end(total: number): Record<string, number> | null {
    const records = total - this.#recordsBefore;
    if (this.#start === null || records <= 0) return null;
    const start = this.#start;
    const used: Record<string, number> = {};
    for (const [part, pids] of Object.entries(this.parts())) {
      const seconds = totalCpuSeconds(pids) - pids.reduce((sum, pid) => sum + (start.get(pid) ?? 0), 0);
      used[part] = (seconds * 1e6) / records;
    }
    return used;
  }
}

function finish(label: string, total: number, startedAt: number, joinedAt: number | null, doneAt: number | null, done: number, endedAt: number): ConsumeRun {
  const fromJoinMs = joinedAt !== null && doneAt !== null ? doneAt - joinedAt : null;
  let perSecond: number | null = null;
  if (fromJoinMs !== null && fromJoinMs > 0) perSecond = (total / fromJoinMs) * 1000;
  else if (doneAt === null && joinedAt !== null && endedAt > joinedAt) perSecond = (done / (endedAt - joinedAt)) * 1000;
  return {
    label,
    total,
    complete: doneAt !== null,
    committed: done,
    toJoinMs: joinedAt === null ? null : joinedAt - startedAt,
    fromJoinMs,
    perSecond,
  };
}

function describe(run: ConsumeRun): string {
  const rate = run.perSecond === null ? "no rate" : `${Math.round(run.perSecond).toLocaleString("en-US")} records/s`;
  const join = run.toJoinMs === null ? "?" : (run.toJoinMs / 1000).toFixed(1);
  return run.complete
    ? `${run.label}: joined ${join} s after the start, then ${run.total} records in ${((run.fromJoinMs ?? 0) / 1000).toFixed(2)} s: ${rate}`
    : `${run.label}: INCOMPLETE, ${run.committed} of ${run.total} done before the time limit (${rate})`;
}

function failedRun(label: string, total: number, error: unknown): ConsumeRun {
  const message = error instanceof Error ? error.message : String(error);
  progress(`  ${label}: FAILED: ${message.split("\n")[0]}`);
  return { label, total, complete: false, committed: 0, toJoinMs: null, fromJoinMs: null, perSecond: null, error: message };
}

/** Spawns a bare kafkajs consumer process and times it until it reports `total` records done. */
export async function runBaseline(context: BenchContext, label: string, spec: BaselineSpec, total: number, timeoutMs: number): Promise<ConsumeRun> {
  return timeBaseline(context, label, spec, total, timeoutMs).catch((error: unknown) => failedRun(label, total, error));
}

async function timeBaseline(context: BenchContext, label: string, spec: BaselineSpec, total: number, timeoutMs: number): Promise<ConsumeRun> {
  progress(`  ${label}: starting`);
  const startedAt = performance.now();
  const baseline = await BaselineProcess.start(spec);
  const meter = new CpuMeter(() => ({ consumer: [baseline.child.pid!], broker: [context.brokerPid], bench: [process.pid] }));
  try {
    const until = startedAt + timeoutMs;
    let lastReport = performance.now();
    const done = (): boolean => (baseline.progress.at(-1)?.count ?? 0) >= total;
    let metering = false;
    while (!done() && performance.now() < until) {
      if (!metering && baseline.joinedAt !== null) {
        metering = true;
        meter.joined(baseline.progress.at(-1)?.count ?? 0);
      }
      if (performance.now() - lastReport > 5_000) {
        lastReport = performance.now();
        progress(`  ${label}: ${baseline.progress.at(-1)?.count ?? 0} of ${total} done`);
      }
      await sleep(20);
    }
    // The baseline reports its join and each batch it finished with its own timestamps: exact, no polling.
    const last = baseline.progress.at(-1);
    const complete = done();
    const cpu = complete ? meter.end(total) : null;
    const run = finish(label, total, startedAt, baseline.joinedAt, complete && last ? last.at : null, last?.count ?? 0, performance.now());
    if (cpu !== null) run.cpu = { consumer: cpu.consumer!, broker: cpu.broker!, bench: cpu.bench! };
    progress(`  ${describe(run)}`);
    return run;
  } finally {
    await baseline.stop();
  }
}

/**
 * Starts a fresh Eddy (so no earlier function's worker shares the machine), deploys `source`, and
 * times it until the function's group has committed `total`. The clock starts at the deploy request.
 */
export async function runEddyFunction(
  context: BenchContext,
  label: string,
  deploy: { name: string; source: string; config?: Record<string, unknown> },
  topic: string,
  total: number,
  timeoutMs: number,
  eddyEnv?: Record<string, string>,
): Promise<ConsumeRun> {
  return timeEddyFunction(context, label, deploy, topic, total, timeoutMs, eddyEnv).catch((error: unknown) => failedRun(label, total, error));
}

async function timeEddyFunction(
  context: BenchContext,
  label: string,
  deploy: { name: string; source: string; config?: Record<string, unknown> },
  topic: string,
  total: number,
  timeoutMs: number,
  eddyEnv: Record<string, string> | undefined,
): Promise<ConsumeRun> {
  progress(`  ${label}: starting Eddy`);
  const eddy = await context.startEddy(label, eddyEnv);
  try {
    const startedAt = performance.now();
    const abort = new AbortController();
    const meter = new CpuMeter(() => ({ worker: childPids(eddy.pid, "worker-main"), controlPlane: [eddy.pid], broker: [context.brokerPid], bench: [process.pid] }));
    const watching = watchCommits(context.admin, eddy.groupOf(deploy.name), topic, total, {
      timeoutMs,
      joinedBy: (clientId) => clientId.startsWith("eddy-worker-"),
      signal: abort.signal,
      failFast: () => eddy.workerFailure(),
      onPoll: (committed) => progress(`  ${label}: ${committed} of ${total} committed`),
      onJoined: (committedBefore) => meter.joined(committedBefore),
    });
    watching.catch(() => undefined);
    await eddy.deploy(deploy.source, deploy.config).catch(async (error: unknown) => {
      abort.abort();
      await watching.catch(() => undefined);
      throw error;
    });
    const watch = await watching;
    const cpu = watch.doneAt === null ? null : meter.end(total);
    const run = finish(label, total, startedAt, watch.joinedAt, watch.doneAt, watch.committed, performance.now());
    const first = watch.firstCommit;
    if (cpu !== null) run.cpu = { consumer: cpu.worker! + cpu.controlPlane!, broker: cpu.broker!, worker: cpu.worker!, controlPlane: cpu.controlPlane!, bench: cpu.bench! };
    run.joinToFirstCommitMs = first !== null && watch.joinedAt !== null ? first.at - watch.joinedAt : null;
    run.steadyPerSecond = first !== null && watch.doneAt !== null && watch.doneAt > first.at ? ((total - first.committed) / (watch.doneAt - first.at)) * 1000 : null;
    // Workers report their counters once a second.
    await sleep(1_200);
    run.eddyStats = (await eddy.status(deploy.name).catch(() => undefined))?.stats;
    run.markers = [...eddy.markers];
    progress(`  ${describe(run)}`);
    return run;
  } finally {
    await eddy.stop();
  }
}
