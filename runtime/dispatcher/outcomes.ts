import type { InvocationResult, SerializedError } from "../sandbox/function-sandbox.js";
import type { InvocationVerdict } from "./circuit-breaker.js";
import type { PendingRecord } from "./partition-work.js";

/** What an invocation's per-record outcomes mean for the dispatcher. */
export interface InterpretedOutcomes {
  succeeded: PendingRecord[];
  /** Failures that count as an attempt of that record. */
  failed: { record: PendingRecord; error: SerializedError }[];
  /** Records that were not really attempted: they run again without counting an attempt. */
  requeue: PendingRecord[];
  /**
   * Of `requeue`, the records that did run but were cut short beside a failure (run alone next, or
   * torn down by another invocation's reset): their wait for evidence of health starts now.
   */
  cutShort: PendingRecord[];
  /** For the breaker: any success proves the function works; only failures (no success) count against it. */
  verdict: InvocationVerdict;
  /**
   * Of this invocation's successes, how many finished before `record` began, and so are no evidence
   * of health for its failure: with `handle`, its lane's earlier records (a lane runs one record after
   * another); with `handleBatch`, none (the batch ran as one, and the function told the records apart).
   * Successes beside it (other lanes, the rest of the batch) are evidence.
   */
  successesBefore(record: PendingRecord): number;
}

/** Failures the host gives every record left without an outcome when it cuts an invocation short. */
const CUT_SHORT = new Set(["EDDY_SANDBOX_TIMEOUT", "EDDY_SANDBOX_MEMORY"]);

/**
 * Sorts an invocation's outcomes. With `handle`, a lane's records (the partition's, or a key's)
 * run one after another and stop at the lane's first failure, so only that first failure is the
 * record's own: the lane's records after it were skipped, or (after a timeout) never reached,
 * whatever outcome they were given. A record torn
 * down by another invocation's timeout (`EDDY_SANDBOX_RESET`) did nothing wrong either.
 *
 * @example
 * ```ts
 * const { succeeded, failed, requeue, verdict } = interpretOutcomes(records, result, "handle");
 * ```
 */
export function interpretOutcomes(
  records: readonly PendingRecord[],
  result: InvocationResult,
  handler: "handle" | "handleBatch",
  concurrent = false,
): InterpretedOutcomes {
  const laneSuccesses = new Map<string, number>();
  const interpreted: InterpretedOutcomes = {
    succeeded: [],
    failed: [],
    requeue: [],
    cutShort: [],
    verdict: "neutral",
    successesBefore: (record) => (handler === "handleBatch" ? 0 : (laneSuccesses.get(record.lane) ?? 0)),
  };
  // Indexed loops: `records.entries()` allocates a pair per record, on every invocation's path.
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    if (result.outcomes[index]?.status === "ok") laneSuccesses.set(record.lane, (laneSuccesses.get(record.lane) ?? 0) + 1);
  }
  if (concurrent && handler === "handle" && cutShortUnclear(result)) return requeueAlone(records, result, interpreted);
  const stopped = new Set<string>();
  for (let index = 0; index < records.length; index++) {
    const record = records[index]!;
    const outcome = result.outcomes[index] ?? { status: "skipped" as const };
    if (outcome.status === "ok") {
      interpreted.succeeded.push(record);
    } else if (outcome.status === "skipped" || stopped.has(record.lane)) {
      interpreted.requeue.push(record);
    } else if (outcome.error.code === "EDDY_SANDBOX_RESET") {
      interpreted.requeue.push(record);
      interpreted.cutShort.push(record);
    } else {
      interpreted.failed.push({ record, error: outcome.error });
      if (handler === "handle") stopped.add(record.lane);
    }
  }
  interpreted.verdict = interpreted.succeeded.length > 0 ? "success" : interpreted.failed.length > 0 ? "failure" : "neutral";
  return interpreted;
}

function cutShortUnclear(result: InvocationResult): boolean {
  let cut = 0;
  for (const outcome of result.outcomes) if (outcome.status === "failed" && outcome.error.code !== undefined && CUT_SHORT.has(outcome.error.code)) cut += 1;
  return cut > 1;
}

function requeueAlone(records: readonly PendingRecord[], result: InvocationResult, interpreted: InterpretedOutcomes): InterpretedOutcomes {
  for (const [index, record] of records.entries()) {
    if (result.outcomes[index]?.status === "ok") {
      interpreted.succeeded.push(record);
      continue;
    }
    record.solo = true;
    interpreted.requeue.push(record);
    interpreted.cutShort.push(record);
  }
  interpreted.verdict = interpreted.succeeded.length > 0 ? "success" : "neutral";
  return interpreted;
}
